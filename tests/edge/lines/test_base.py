"""The shared call contract: event order and the after-hang-up rule, once for every line."""

from __future__ import annotations

import threading
import time

from edge.lines import BaseCall, CallerId, KeyPressed, PlaybackFinished, RemoteHangup


class _Call(BaseCall):
    def __init__(self) -> None:
        super().__init__("test", CallerId("+15550100"))
        self.hung_up = 0

    def hang_up(self) -> None:
        self.hung_up += 1


def test_events_come_out_in_order_and_none_on_timeout() -> None:
    call = _Call()
    call.post(KeyPressed("1"))
    call.post(PlaybackFinished(3))
    assert call.next_event(0) == KeyPressed("1")
    assert call.next_event(0) == PlaybackFinished(3)
    assert call.next_event(0.01) is None


def test_after_a_hang_up_queued_events_then_hang_up_forever_without_waiting() -> None:
    call = _Call()
    call.post(KeyPressed("4"))
    assert call.post_hangup("network")
    assert not call.post_hangup("remote")  # only the first report counts
    call.post(KeyPressed("5"))  # a late report from the line still comes out, in order
    assert call.next_event(5) == KeyPressed("4")
    assert call.next_event(5) == RemoteHangup("network")
    assert call.next_event(5) == KeyPressed("5")
    started = time.monotonic()
    for _ in range(3):
        assert call.next_event(5) == RemoteHangup("network")
    assert time.monotonic() - started < 1.0
    assert call.hung_up_remotely


def test_a_hang_up_wakes_a_waiting_reader() -> None:
    call = _Call()
    threading.Timer(0.05, call.post_hangup).start()
    assert call.next_event(5) == RemoteHangup("remote")


def test_reject_defaults_to_hang_up() -> None:
    call = _Call()
    call.reject()
    assert call.hung_up == 1
