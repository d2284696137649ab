"""The shared call contract: event order and the after-hang-up rule, once for every line."""

from __future__ import annotations

import threading
import time

from edge.lines import (
    BaseCall,
    CallerId,
    KeyPressed,
    PlaybackFinished,
    RecordingFinished,
    RemoteHangup,
)


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


# -- recording: the rules every line gets from BaseCall ------------------------------------
class _Recording(BaseCall):
    """A line that records: it remembers what it was asked and reports when told."""

    def __init__(self) -> None:
        super().__init__("test", CallerId("+15550100"))
        self.started: list[int] = []
        self.stops: list[tuple[str, str]] = []

    def hang_up(self) -> None:
        pass

    def _start_recording(self, record_id, path, max_s, silence_s, finish_keys) -> None:
        self.started.append(record_id)

    def _stop_recording(self, reason: str, key: str) -> None:
        self.stops.append((reason, key))


def test_a_line_that_cannot_record_says_so_at_once(tmp_path) -> None:
    call = _Call()
    call.record(1, tmp_path / "m.wav", 60, 5, "#")
    assert call.next_event(0) == RecordingFinished(1, None, 0.0, "unsupported")
    assert not call.recording
    call.stop_recording()  # nothing to stop: no-op
    assert call.next_event(0.01) is None


def test_a_finish_key_ends_the_recording_and_is_not_a_key(tmp_path) -> None:
    call = _Recording()
    call.record(3, tmp_path / "m.wav", 60, 5, "#*")
    call.post(KeyPressed("5"))  # not a finish key: the server sees it (and ignores it)
    call.post(KeyPressed("#"))
    assert call.stops == [("key", "#")]
    assert call.next_event(0) == KeyPressed("5")
    assert call.next_event(0.01) is None
    assert call.post_recording(RecordingFinished(3, tmp_path / "m.wav", 2.0, "key", "#"))
    assert not call.post_recording(RecordingFinished(3, None, 0.0, "failed"))  # only once
    assert call.next_event(0) == RecordingFinished(3, tmp_path / "m.wav", 2.0, "key", "#")
    call.post(KeyPressed("#"))  # after the recording, a key like any other
    assert call.next_event(0) == KeyPressed("#")


def test_a_hang_up_stops_the_recording_and_comes_out_after_its_report(tmp_path) -> None:
    call = _Recording()
    call.record(1, tmp_path / "m.wav", 60, 5, "#")
    assert call.post_hangup("remote")
    assert call.stops == [("hangup", "")]
    assert call.hung_up_remotely
    assert call.next_event(0.01) is None  # waiting for the line to finish the file
    threading.Timer(0.05, call.post_recording,
                    [RecordingFinished(1, tmp_path / "m.wav", 4.0, "hangup")]).start()
    assert call.next_event(5) == RecordingFinished(1, tmp_path / "m.wav", 4.0, "hangup")
    assert call.next_event(5) == RemoteHangup("remote")
    assert call.next_event(5) == RemoteHangup("remote")


def test_a_recording_never_reported_after_a_hang_up_is_given_up(tmp_path) -> None:
    call = _Recording()
    call.RECORDING_GRACE_S = 0.1
    call.record(1, tmp_path / "m.wav", 60, 5, "#")
    call.post_hangup()
    started = time.monotonic()
    events = [call.next_event(5), call.next_event(5)]
    assert events == [RecordingFinished(1, None, 0.0, "failed"), RemoteHangup("remote")]
    assert time.monotonic() - started < 2
    assert not call.post_recording(RecordingFinished(1, tmp_path / "m.wav", 1.0, "hangup"))


def test_record_after_the_caller_left_reports_hangup(tmp_path) -> None:
    call = _Recording()
    call.post_hangup()
    call.record(2, tmp_path / "m.wav", 60, 5, "#")
    assert call.started == []
    assert call.next_event(1) == RemoteHangup("remote")
    assert call.next_event(1) == RecordingFinished(2, None, 0.0, "hangup")


def test_a_line_that_fails_to_start_reports_failed(tmp_path) -> None:
    class Broken(_Recording):
        def _start_recording(self, *args) -> None:  # type: ignore[no-untyped-def]
            raise OSError("no audio device")

    call = Broken()
    call.record(1, tmp_path / "m.wav", 60, 5, "#")
    assert call.next_event(0) == RecordingFinished(1, None, 0.0, "failed")


def test_stop_recording_asks_the_line_and_a_new_recording_replaces_one_never_reported(
        tmp_path) -> None:
    call = _Recording()
    call.record(1, tmp_path / "m.wav", 60, 5, "#")
    call.stop_recording()
    assert call.stops == [("stopped", "")]
    call.record(2, tmp_path / "n.wav", 60, 5, "#")  # 1 never reported: given up, replaced
    assert call.started == [1, 2] and call.stops == [("stopped", "")] * 2
    assert call.next_event(0) == RecordingFinished(1, None, 0.0, "failed")
    assert not call.post_recording(RecordingFinished(1, tmp_path / "m.wav", 3.0, "stopped"))
    assert call.post_recording(RecordingFinished(2, None, 0.0, "silence"))
