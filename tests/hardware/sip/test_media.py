"""The media side of call set-up over raw UDP on 127.0.0.1: offers checked field by field (488),
a stream error or a dead RTP thread never silencing every call, delayed offer, a=ptime, RTP
taken only from the peer, and RTP ports another program holds."""

from __future__ import annotations

import contextlib
import itertools
import socket
import statistics
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from edge.lines import CallGone, KeyPressed, RemoteHangup

from .rawsip import HOST, RawCaller, sdp


class Answering:
    """A started line whose calls are all answered at once (what the server does)."""

    def __init__(self, harness: Any) -> None:
        self.harness = harness
        self.calls: list[Any] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def line(self) -> Any:
        return self.harness.line

    @property
    def port(self) -> int:
        return self.harness.port

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                call = self.harness.next_call(timeout=0.1)
            except Exception:
                continue
            self.calls.append(call)
            with contextlib.suppress(CallGone):
                call.answer()

    def box_rtp(self, index: int = -1) -> tuple[str, int]:
        return (HOST, self.calls[index]._vcall.RTPClients[0].inPort)

    def keys(self, call: Any, seconds: float) -> list[str]:
        got, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            event = call.next_event(0.1)
            if isinstance(event, KeyPressed):
                got.append(event.digit)
        return got

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


@pytest.fixture
def answering(make_line: Callable[..., Any]) -> Iterator[Callable[..., Answering]]:
    made: list[Answering] = []

    def make(**overrides: Any) -> Answering:
        made.append(Answering(make_line(**overrides)))
        return made[-1]

    yield make
    for a in made:
        a.stop()


@pytest.fixture
def callers() -> Iterator[Callable[..., RawCaller]]:
    made: list[RawCaller] = []

    def make(port: int, **kwargs: Any) -> RawCaller:
        made.append(RawCaller(port, **kwargs))
        return made[-1]

    yield make
    for c in made:
        c.close()


def wait_for(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return check()


BAD_OFFERS = {
    "port above 65535": lambda p: sdp(70000),
    "negative port": lambda p: sdp(p).replace(f"m=audio {p}", "m=audio -2"),
    "port not a number": lambda p: sdp(p).replace(f"m=audio {p}", "m=audio 4x0"),
    "payload type above 127": lambda p: sdp(p).replace("RTP/AVP 0 101", "RTP/AVP 300 0"),
    "no codec we speak": lambda p: sdp(p, formats="18"),
    "multicast address": lambda p: sdp(p, address="224.0.0.1"),
    "address not an IP": lambda p: sdp(p, address="gateway.invalid"),
    "IPv6 address as IP4": lambda p: sdp(p, address="::1"),
    "IPv6 media": lambda p: sdp(p).replace(f"c=IN IP4 {HOST}", "c=IN IP6 ::1"),
    "media line cut short": lambda p: sdp(p).replace(" RTP/AVP 0 101", ""),
    "no media line": lambda p: sdp(p).split("m=")[0],
    "SRTP only": lambda p: sdp(p).replace("RTP/AVP", "RTP/SAVP"),
}


def test_unusable_offers_get_488_and_running_calls_keep_their_audio(answering, callers):
    line = answering()
    running = callers(line.port)
    assert running.invite(sdp(running.rtp_port)).code == 200
    running.ack()
    assert len(running.rtp_packets(0.5)) >= 15
    for name, make in BAD_OFFERS.items():
        caller = callers(line.port)
        response = caller.invite(make(caller.rtp_port))
        assert response.code == 488, (name, response.text)
        assert response.header("Warning").startswith(("301 ", "302 ", "304 ", "305 ", "307 ")), (
            name, response.text)
    running.drain_rtp()
    assert len(running.rtp_packets(1.0)) >= 40  # the running call was never silenced
    late = callers(line.port)
    assert late.invite(sdp(late.rtp_port)).code == 200  # and new calls still get audio
    late.ack()
    assert len(late.rtp_packets(0.5)) >= 15
    assert line.line.healthy() and line.line.status().state == "ready"


def test_a_reinvite_with_an_unusable_offer_keeps_the_session(answering, callers):
    line = answering()
    caller = callers(line.port)
    assert caller.invite(sdp(caller.rtp_port)).code == 200
    caller.ack()
    assert caller.reinvite(sdp(70000)).code == 488  # RFC 3261 14.2: the old session stays
    caller.drain_rtp()
    assert len(caller.rtp_packets(1.0)) >= 40


def test_stream_error_ends_that_call_only(answering, callers):
    """An error inside one stream (here its socket fails under the engine) ends its call as a
    remote hang-up with a reason; the other call's audio goes on."""
    line = answering()
    first, second = callers(line.port), callers(line.port)
    for caller in (first, second):
        assert caller.invite(sdp(caller.rtp_port)).code == 200
        caller.ack()
    broken = line.calls[0]._vcall.RTPClients[0]
    broken.outPort = 70000  # what an unchecked SDP once gave the engine: OverflowError
    event = None
    end = time.monotonic() + 3
    while time.monotonic() < end and not isinstance(event, RemoteHangup):
        event = line.calls[0].next_event(0.2)
    assert isinstance(event, RemoteHangup) and "media error" in event.reason
    second.drain_rtp()
    assert len(second.rtp_packets(1.0)) >= 40
    assert line.line.healthy() and line.line.status().facts["media_faults"] == 1


def test_dead_rtp_thread_is_reported_and_restarted(answering, callers):
    line = answering()
    caller = callers(line.port)
    assert caller.invite(sdp(caller.rtp_port)).code == 200
    caller.ack()
    engine = line.line.phone.rtp_engine
    real = engine._apply_pending

    def die_once(selector: Any) -> None:
        engine._apply_pending = real
        raise RuntimeError("injected fault outside any stream")

    engine._apply_pending = die_once
    assert wait_for(lambda: line.line.status().state == "down", 2.0)
    assert not line.line.healthy()  # the watchdog check fails within seconds
    assert "injected" in line.line.status().detail
    assert wait_for(lambda: line.line.healthy() and line.line.status().state == "ready", 5.0)
    assert engine.restarts == 1
    caller.drain_rtp()
    assert len(caller.rtp_packets(1.0)) >= 40  # the call up carries on


def test_delayed_offer(answering, callers):
    line = answering()
    caller = callers(line.port)
    response = caller.invite(None)  # no SDP: the box offers in its 200
    assert response.code == 200, response.text
    body = response.body
    assert "m=audio " in body and "RTP/AVP 0 8 101" in body
    assert "a=rtpmap:101 telephone-event/8000" in body
    caller.ack(sdp(caller.rtp_port, formats="8 101"))  # our answer: PCMA
    packets = caller.rtp_packets(0.5)
    assert len(packets) >= 15 and {p[1] & 0x7F for _, p in packets} == {8}
    caller.press(5, (HOST, response.media_port))
    assert line.keys(line.calls[-1], 1.0) == ["5"]


def test_delayed_offer_without_an_answer_in_the_ack_ends_with_bye(answering, callers):
    line = answering()
    caller = callers(line.port)
    assert caller.invite(None).code == 200
    caller.ack()  # no SDP: the call cannot have audio
    end = time.monotonic() + 3
    bye = ""
    while time.monotonic() < end and not bye.startswith("BYE"):
        try:
            bye = caller.sip.recv(65535).decode()
        except TimeoutError:
            break
    assert bye.startswith("BYE"), bye
    assert wait_for(lambda: line.line.phone.calls == {}, 2.0)


@pytest.mark.parametrize("ptime", [20, 30, 40, 60])
def test_ptime_sets_packet_size_and_pace(answering, callers, ptime):
    line = answering()
    caller = callers(line.port)
    response = caller.invite(sdp(caller.rtp_port, ptime=ptime))
    assert response.code == 200 and f"a=ptime:{ptime}\r\n" in response.body
    caller.ack()
    packets = caller.rtp_packets(1.5)[5:]
    assert {len(p) - 12 for _, p in packets} == {8 * ptime}
    gaps = [(b - a) * 1000 for (a, _), (b, _) in itertools.pairwise(packets)]
    assert abs(statistics.median(gaps) - ptime) < 3, gaps
    stamps = [struct.unpack(">I", p[4:8])[0] for _, p in packets]
    assert {b - a for a, b in itertools.pairwise(stamps)} == {8 * ptime}


def test_rtp_only_from_the_peer(answering, callers):
    line = answering()
    caller = callers(line.port)
    assert caller.invite(sdp(caller.rtp_port)).code == 200
    caller.ack()
    box = line.box_rtp()
    caller.rtp.sendto(struct.pack(">BBHII", 0x80, 0, 1, 160, 77) + b"\xff" * 160, box)  # latch
    time.sleep(0.1)
    other_host = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other_host.bind(("127.0.0.2", 0))
    other_port = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other_port.bind((HOST, 0))
    try:
        caller.press(5, box, sock=other_host, ts=16000)  # another machine
        caller.press(6, box, sock=other_port, ts=24000)  # the gateway's host, another port
        caller.press(1, box, ts=32000)  # the peer
        assert line.keys(line.calls[-1], 1.0) == ["1"]
    finally:
        other_host.close()
        other_port.close()


def test_rtp_port_taken_by_another_program(make_line, callers, tools):
    low = tools.free_ports(6)
    low += low % 2
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.bind((HOST, low))  # another program holds one of the two even ports
    try:
        line = Answering(make_line(rtp_port_low=low, rtp_port_high=low + 3))
        try:
            for _ in range(8):  # the free port every time (a random pick failed half of them)
                caller = callers(line.port)
                response = caller.invite(sdp(caller.rtp_port))
                assert response.code == 200 and response.media_port == low + 2
                caller.ack()
                caller.bye()
                assert wait_for(lambda: line.line.phone.assignedPorts == [], 2.0)
            second = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            second.bind((HOST, low + 2))
            try:
                caller = callers(line.port)
                assert caller.invite(sdp(caller.rtp_port)).code == 503  # never left ringing
            finally:
                second.close()
        finally:
            line.stop()
    finally:
        holder.close()
