"""The shared RTP engine over real UDP sockets on 127.0.0.1: one thread paces every stream in
its own slot of the 20 ms period and reads what the streams receive."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time

from pyVoIP.RTP import PayloadType, TransmitType

from hardware.sip._compat import HardenedRTPClient, RtpEngine

PCMU = {0: PayloadType.PCMU, 101: PayloadType.EVENT}


def receiver() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    return sock


def client(engine: RtpEngine, out_port: int, dtmf=None) -> HardenedRTPClient:
    c = HardenedRTPClient(PCMU, "127.0.0.1", 0, "127.0.0.1", out_port, TransmitType.SENDRECV,
                          dtmf=dtmf, engine=engine)
    c.start()
    return c


def drain(sock: socket.socket, seconds: float) -> list[tuple[float, bytes]]:
    got, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        with contextlib.suppress(TimeoutError):
            got.append((time.monotonic(), sock.recv(2048)))
    return got


def test_one_thread_paces_every_stream_in_a_balanced_slot():
    engine = RtpEngine()
    engine.start()
    sink = receiver()
    clients = [client(engine, sink.getsockname()[1]) for _ in range(25)]
    try:
        assert [t.name for t in engine.threads] == ["rtp-engine"]
        sizes = engine.slot_loads()
        assert max(sizes) - min(sizes) <= 1 and sum(sizes) == 25
        packets = drain(sink, 1.0)
    finally:
        for c in clients:
            c.stop()
        engine.stop()
        sink.close()
    by_ssrc: dict[int, list[int]] = {}
    for _, data in packets:
        ssrc, seq = struct.unpack(">I", data[8:12])[0], struct.unpack(">H", data[2:4])[0]
        by_ssrc.setdefault(ssrc, []).append(seq)
    assert len(by_ssrc) == 25
    for seqs in by_ssrc.values():  # every stream, in order, none lost or doubled
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        assert 35 <= len(seqs) <= 60  # ~50 packets a second, whatever the machine's load


def test_streams_of_different_slots_are_sent_at_different_offsets():
    """Two streams in different slots are not sent back to back: each keeps its own offset in
    the period (what keeps a stall in one burst from delaying every stream)."""
    engine = RtpEngine()
    engine.start()
    sink = receiver()
    first, second = (client(engine, sink.getsockname()[1]) for _ in range(2))
    try:
        packets = drain(sink, 1.0)
    finally:
        first.stop()
        second.stop()
        engine.stop()
        sink.close()
    times: dict[int, list[float]] = {}
    for t, data in packets:
        times.setdefault(struct.unpack(">I", data[8:12])[0], []).append(t)
    a, b = times[first.outSSRC], times[second.outSSRC]
    gaps = sorted(abs(x - y) for x in a for y in b if abs(x - y) < 0.010)
    assert gaps and gaps[len(gaps) // 2] > 0.0005  # median offset: ~2 ms (one slot) apart


def test_digits_arrive_while_the_engine_paces():
    engine = RtpEngine()
    engine.start()
    sink = receiver()
    digits: list[str] = []
    got = threading.Event()

    def on_digit(d: str) -> None:
        digits.append(d)
        got.set()

    c = client(engine, sink.getsockname()[1], dtmf=on_digit)
    try:
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for end, marker in ((False, True), (False, False), (True, False), (True, False)):
            payload = struct.pack(">BBH", 7, (0x80 if end else 0) | 10, 800)
            header = struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | 101, 1, 4000, 99)
            sender.sendto(header + payload, c.sin.getsockname())
        assert got.wait(2.0)
        time.sleep(0.1)
        sender.close()
    finally:
        c.stop()
        engine.stop()
        sink.close()
    assert digits == ["7"]


def test_a_failing_stream_ends_alone_and_the_others_go_on():
    """An error in one stream (an SDP port of 70000 once raised OverflowError in sendto and
    ended the thread: every call silent) ends that stream's call; the engine goes on."""
    engine = RtpEngine()
    engine.start()
    sink = receiver()
    good = client(engine, sink.getsockname()[1])
    faults: list[str] = []
    bad = HardenedRTPClient(PCMU, "127.0.0.1", 0, "127.0.0.1", 70000, TransmitType.SENDRECV,
                            engine=engine)
    bad.on_fault = faults.append
    bad.start()
    try:
        time.sleep(0.3)
        assert faults == ["media error (OverflowError)"]
        assert engine.streams() == 1 and engine.alive()
        assert len(drain(sink, 0.5)) >= 20  # the good stream is still paced
    finally:
        good.stop()
        bad.stop()
        engine.stop()
        sink.close()


def test_removed_stream_stops_and_its_socket_closes():
    engine = RtpEngine()
    engine.start()
    sink = receiver()
    c = client(engine, sink.getsockname()[1])
    try:
        assert drain(sink, 0.2)
        c.stop()
        time.sleep(0.1)
        while True:  # what was already in flight
            try:
                sink.recv(2048)
            except TimeoutError:
                break
        assert drain(sink, 0.3) == []
        assert engine.streams() == 0 and c.sin.fileno() == -1
    finally:
        engine.stop()
        sink.close()


def test_idle_engine_sleeps_until_a_stream_is_added():
    engine = RtpEngine()
    engine.start()
    sink = receiver()
    try:
        time.sleep(0.2)
        tid = engine.threads[0].native_id
        before = _wakeups(tid)
        time.sleep(1.0)
        assert _wakeups(tid) - before <= 3  # not 500 a second (one per slot) with no call up
        c = client(engine, sink.getsockname()[1])
        assert drain(sink, 0.3)  # a new stream is paced at once
        c.stop()
    finally:
        engine.stop()
        sink.close()


def _wakeups(tid: int) -> int:
    """How often one thread of this process has slept and woken (voluntary switches)."""
    with open(f"/proc/self/task/{tid}/status") as status:
        line = next(x for x in status if x.startswith("voluntary_ctxt_switches"))
    return int(line.split()[1])
