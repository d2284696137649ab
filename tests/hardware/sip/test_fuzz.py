"""Fuzz: 100,000 mutated datagrams (SIP and SDP mutations: absurd ports and addresses, cut
messages, wrong Content-Length, binary garbage) from an allowed source into ``edgecall serve``
while a call runs. The process stays up, the call's audio never stops, the call completes, a
new call completes afterwards, and RSS stays within 20% of what it was before.

The box runs as its own process (``edgecall serve`` with a [sip] line and the demo survey, its
question timeout raised so the running call can wait out the fuzz). Every 100 datagrams the
fuzzer sends an OPTIONS and waits for its 200: the box has then handled everything before it
(one socket, in order), so no datagram is lost to a full receive buffer.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import random
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from edge.cli import main
from edge.survey import BUILTIN_DEMO

from .rawsip import HOST, RawCaller, sdp

DATAGRAMS = int(os.environ.get("EDGECALL_FUZZ_N", "100000"))  # fewer: a quick local try
SYNC_EVERY = 100
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
WARM_UP = 3000
KEYS = ((1, "1"), (1, "1"), (1, "1"), (11, "#"), (1, "1"), (2, "2"))  # completes the demo


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1])


# --- the datagrams ------------------------------------------------------------------------------

ABSURD_PORTS = ["70000", "-1", "65536", "99999999999999", "0x1F", "", "4000/0", "4000/99", "+5"]
ABSURD_ADDRESSES = ["999.1.1.1", "224.0.0.1", "255.255.255.255", "::1", "0.1.2.3", "a b", "",
                    "127.0.0.1/127/3", "gateway.invalid", "1.2.3"]
ABSURD_TYPES = ["300", "-1", "PCMU", "128", "", "0 " * 60, "101/8000"]


def invite(rng: random.Random, n: int, port: int, body: str) -> str:
    return (
        f"INVITE sip:survey@{HOST}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {HOST}:5999;branch=z9hG4bKf{n}\r\n"
        f"From: <sip:+2557{rng.randrange(10**8):08d}@{HOST}>;tag=f{n}\r\n"
        f"To: <sip:survey@{HOST}>\r\nCall-ID: fuzz-{n}@x\r\nCSeq: {rng.randrange(1, 9)} INVITE\r\n"
        f"Contact: <sip:fz@{HOST}:5999>\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
    )


def request(method: str, n: int, port: int) -> str:
    return (
        f"{method} sip:survey@{HOST}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {HOST}:5999;branch=z9hG4bKr{n}\r\n"
        f"From: <sip:gw@{HOST}>;tag=r{n}\r\nTo: <sip:survey@{HOST}>;tag=x{n}\r\n"
        f"Call-ID: fuzz-{n}@x\r\nCSeq: 2 {method}\r\nContent-Length: 0\r\n\r\n"
    )


def mutate_sdp(rng: random.Random, body: str) -> str:
    lines = body.split("\r\n")
    choice = rng.randrange(9)
    if choice == 0:
        return body.replace("m=audio 40000", f"m=audio {rng.choice(ABSURD_PORTS)}")
    if choice == 1:
        return body.replace(f"c=IN IP4 {HOST}", f"c=IN IP4 {rng.choice(ABSURD_ADDRESSES)}")
    if choice == 2:
        return body.replace("RTP/AVP 0 101", f"RTP/AVP {rng.choice(ABSURD_TYPES)}")
    if choice == 3:  # a line dropped or doubled
        i = rng.randrange(len(lines))
        lines[i:i + 1] = [] if rng.random() < 0.5 else [lines[i], lines[i]]
        return "\r\n".join(lines)
    if choice == 4:
        return body + rng.choice(["a=ptime:x\r\n", "a=ptime:0\r\n", "a=rtpmap:101\r\n",
                                  "a=rtpmap:0 PCMU/x\r\n", "a=fmtp\r\n", "b=AS\r\n", "z=1\r\n"])
    if choice == 5:
        return body.replace("RTP/AVP", rng.choice(["RTP/SAVP", "UDP", "RTP", "", "RTP/AVP/X"]))
    if choice == 6:
        return body + "m=video 9 RTP/AVP 96\r\nc=IN IP6 ::1\r\n" * rng.randrange(1, 12)
    if choice == 7:
        return body.replace("c=IN IP4", rng.choice(["c=IN IP6", "c=ATM NSAP", "c=IN", "c="]))
    return body[: rng.randrange(len(body))]  # cut short


def datagrams(port: int, count: int, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    for i in range(count):
        n = seed * 10**7 + i  # Call-IDs never repeat across runs
        body = sdp(40000)
        kind = rng.randrange(10)
        if kind <= 3:  # the SDP is what is wrong
            text = invite(rng, n, port, mutate_sdp(rng, body))
        elif kind == 4:  # Content-Length that lies
            text = invite(rng, n, port, body).replace(
                f"Content-Length: {len(body)}",
                f"Content-Length: {rng.choice(['-5', '99999', 'x', '', '0', str(len(body) // 2)])}")
        elif kind == 5:  # other requests and stray responses
            text = rng.choice([
                request(rng.choice(["BYE", "CANCEL", "INFO", "UPDATE", "ACK", "OPTIONS",
                                    "PRACK", "FOO"]), n, port),
                f"SIP/2.0 {rng.choice([100, 180, 200, 486, 999])} X\r\n"
                + request("BYE", n, port).split("\r\n", 1)[1],
            ])
        else:
            text = invite(rng, n, port, body)
        data = bytearray(text.encode())
        if kind >= 6:  # byte-level damage to the whole datagram
            how = rng.randrange(4)
            if how == 0:
                data = data[: rng.randrange(1, len(data))]
            elif how == 1:
                for _ in range(rng.randrange(1, 24)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
            elif how == 2:
                data = bytearray(rng.randbytes(rng.randrange(1, 1400)))
            else:
                cut = rng.randrange(len(data))
                data[cut:cut] = rng.choice([b"\r\n", b"\r\n\r\n", b"\x00", b":", b"X" * 9000])
        yield bytes(data)


class Fuzzer:
    """Sends the datagrams from one allowed source, keeping in step with the box."""

    def __init__(self, port: int) -> None:
        self.target = (HOST, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind((HOST, 0))
        self.sent = 0
        self.progress: Callable[[int], None] | None = None

    def drain(self) -> None:
        """Read the box's answers as they come: a full receive buffer would drop the 200
        a sync waits for."""
        self.sock.settimeout(0.0)
        with contextlib.suppress(BlockingIOError, OSError):
            while True:
                self.sock.recv(65535)

    def sync(self, n: int) -> None:
        tag = f"sync-{n}@fuzz"
        ping = request("OPTIONS", n, self.target[1]).replace(f"fuzz-{n}@x", tag).encode()
        for _ in range(10):
            self.sock.sendto(ping, self.target)
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    data = self.sock.recv(65535)
                except TimeoutError:
                    break
                if data.startswith(b"SIP/2.0 200") and tag.encode() in data:
                    return
        raise AssertionError(f"the box stopped answering after {self.sent} datagrams")

    def run(self, count: int, seed: int = 20261202) -> None:
        for data in datagrams(self.target[1], count, seed):
            self.sock.sendto(data, self.target)
            self.sent += 1
            if self.sent % 20 == 0:
                self.drain()
            if self.sent % SYNC_EVERY == 0:
                self.sync(self.sent)
                if self.progress is not None and self.sent % 10_000 == 0:
                    self.progress(self.sent)
        self.sync(self.sent)

    def close(self) -> None:
        self.sock.close()


# --- the box and the calls ----------------------------------------------------------------------

class Box:
    def __init__(self, tmp_path: Path, tools: Any) -> None:
        assert main(["init", str(tmp_path)]) == 0
        survey = json.loads(BUILTIN_DEMO.read_text(encoding="utf-8"))
        # The running call waits out the fuzz at the first question (up to 10 x 60 s).
        survey["settings"].update(timeout=60, max_attempts=10)
        (tmp_path / "survey.json").write_text(json.dumps(survey), encoding="utf-8")
        self.port = tools.free_ports(1)
        rtp = tools.free_ports(200)
        config = tmp_path / "edgecall.toml"
        text = config.read_text()
        text = text.replace('file = "builtin:demo"', 'file = "survey.json"')
        text = text.replace("max_concurrent_calls = 4", "max_concurrent_calls = 2")
        text = text.replace('when_busy = "message"', 'when_busy = "reject"')
        text = text.replace('log_level = "info"', 'log_level = "warning"')
        text += (f'\n[sip]\nbind_address = "{HOST}"\nport = {self.port}\n'
                 f'allowed_sources = ["{HOST}"]\nrtp_port_low = {rtp}\n'
                 f"rtp_port_high = {rtp + 199}\n")
        config.write_text(text)
        self.log = (tmp_path / "box.log").open("w")
        self.db = tmp_path / "data" / "edgecall.db"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edge.cli", "serve", "--config", str(config)],
            stdout=self.log, stderr=self.log, cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )

    def wait_ready(self) -> None:
        probe = Fuzzer(self.port)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    probe.sync(0)
                    return
                except AssertionError:
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        raise
        finally:
            probe.close()

    def dispositions(self) -> list[str]:
        conn = sqlite3.connect(self.db)
        try:
            rows = conn.execute("SELECT caller, disposition FROM calls").fetchall()
        finally:
            conn.close()
        return [d for _, d in rows]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


class AudioWatch(threading.Thread):
    """Records the running call's RTP (kernel arrival time, sequence number); answers the
    box's BYE."""

    def __init__(self, caller: RawCaller) -> None:
        super().__init__(daemon=True)
        self.caller = caller
        self.packets: list[tuple[float, int]] = []
        self.bye = threading.Event()
        self._halt = threading.Event()
        caller.rtp.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)

    def run(self) -> None:
        self.caller.rtp.settimeout(0.05)
        self.caller.sip.settimeout(0.0)
        while not self._halt.is_set():
            with contextlib.suppress(TimeoutError):
                data, ancillary, _, _ = self.caller.rtp.recvmsg(4096, 64)
                stamp = time.time()
                for level, kind, value in ancillary:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                        sec, nsec = struct.unpack("qq", value[:16])
                        stamp = sec + nsec / 1e9
                self.packets.append((stamp, struct.unpack(">H", data[2:4])[0]))
            with contextlib.suppress(BlockingIOError, OSError):
                data = self.caller.sip.recv(65535).decode(errors="replace")
                if data.startswith("BYE "):
                    head = data.split("\r\n\r\n", 1)[0].split("\r\n")[1:]
                    keep = [h for h in head if h.split(":", 1)[0].lower() in (
                        "via", "from", "to", "call-id", "cseq")]
                    ok = "SIP/2.0 200 OK\r\n" + "".join(h + "\r\n" for h in keep)
                    self.caller.sip.sendto((ok + "Content-Length: 0\r\n\r\n").encode(),
                                           self.caller.box)
                    self.bye.set()

    def window(self, start: float, end: float) -> tuple[int, int, float]:
        """(packets received, sequence numbers missing, largest gap in ms) between two
        wall-clock times."""
        inside = [(t, seq) for t, seq in self.packets if start <= t <= end]
        missing = sum((b - a - 1) % 65536 for (_, a), (_, b) in itertools.pairwise(inside))
        gap = max((b - a for (a, _), (b, _) in itertools.pairwise(inside)), default=math.inf)
        return len(inside), missing, gap * 1000

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(2)


@pytest.mark.slow
def test_fuzz_while_a_call_runs(tmp_path, tools, sipp):
    box = Box(tmp_path, tools)
    fuzzer = Fuzzer(box.port)
    live = RawCaller(box.port)
    watch = AudioWatch(live)
    try:
        box.wait_ready()
        # Warm-up: one call through the whole survey (prompts rendered and cached, store
        # written) and a few thousand datagrams (every code path once), then RSS "before".
        proc = sipp.start("uac_rfc2833_digits.xml", box.port, timeout_s=60)
        assert sipp.wait(proc, timeout=70) == 0, sipp.errors()
        answer = live.invite(sdp(live.rtp_port))
        assert answer.code == 200, answer.text
        live.ack()
        watch.start()
        Fuzzer(box.port).run(WARM_UP, seed=1)
        before = rss_kb(box.proc.pid)
        started, wall_start = time.monotonic(), time.time()
        fuzzer.progress = lambda n: print(f"{n} sent, {time.monotonic() - started:.0f} s, RSS "
                                          f"{rss_kb(box.proc.pid)} kB", flush=True)
        fuzzer.run(DATAGRAMS)
        fuzz_s = time.monotonic() - started
        assert box.proc.poll() is None, "the box died"
        # The running call's audio never stopped: every packet came, none late by much.
        received, missing, gap_ms = watch.window(wall_start, time.time())
        box_rtp = (HOST, answer.media_port)
        for code, _ in KEYS:  # the running call completes
            live.press(code, box_rtp, ts=random.randrange(1, 2**31))
            time.sleep(0.7)
        assert watch.bye.wait(30), "the box never ended the running call"
        proc = sipp.start("uac_rfc2833_digits.xml", box.port, timeout_s=60)
        assert sipp.wait(proc, timeout=70) == 0, sipp.errors()  # a new call completes
        after = rss_kb(box.proc.pid)
        figures = (f"{DATAGRAMS} datagrams in {fuzz_s:.1f} s; RSS {before} -> {after} kB; "
                   f"running call: {received} RTP packets, {missing} missing, largest gap "
                   f"{gap_ms:.1f} ms")
        print("\n" + figures)
        assert box.dispositions().count("complete") == 3, (box.dispositions()[:10], figures)
        assert after <= before * 1.2, figures
        assert missing == 0 and received >= 0.97 * 50 * fuzz_s, figures
        assert gap_ms < 100, figures
    finally:
        watch.stop()
        live.close()
        fuzzer.close()
        box.close()
