"""Keypress to next prompt over RTP, end to end through ``edgecall serve`` with a [sip] line.

SIPp places N concurrent calls (streaming caller audio to the box, as a gateway does); the
calls' SDP sends the box's RTP to this script, which plays the caller's keypad: it watches
each call's audio, presses a key (RFC 2833 events to the box's RTP port) a moment after a
question's prompt starts, and timestamps in the kernel (SO_TIMESTAMPNS) the first packet of the
next prompt. Every prompt is a recording of its own constant level, so the packet that starts
the next prompt is recognised by its bytes. Between the two: the box's RTP read, digit
de-duplication, the call runner, the survey engine, the answer's durable commit (fsync), and
the wait for the stream's next 20 ms packet slot.

Baseline in the same run: a bare paced RTP sender (one Python process, one socket, a packet
every 20 ms) that switches its payload the moment an event packet arrives: the floor for any
sender that keeps a 20 ms packet clock. The table shows ours, the floor and the ratio.

Usage: .venv/bin/python bench/sip_keypress.py [--calls 100] [--questions 10]
Needs SIPp (apt-get install sip-tester). Only 127.0.0.1 is used. Prints a table; no pass/fail.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import io
import json
import os
import random
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sip_capacity import (  # bench scripts run as files: the sibling is on sys.path
    HOST,
    SO_TIMESTAMPNS,
    free_port,
    percentile,
    write_caller_wav,
)

SILENCE_ULAW = 0xFF
EVENT_PT = 101
PROMPT_S = 4.0

SCENARIO = """<?xml version="1.0" encoding="UTF-8"?>
<scenario name="bench_keypress">
  <Global variables="mport"/>
  <send retrans="500">
    <![CDATA[
      INVITE sip:survey@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+255700[call_number]@[local_ip]:[local_port]>;tag=[pid]k[call_number]
      To: <sip:survey@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [local_ip]
      t=0 0
      m=audio [$mport] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true" timeout="30000"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+255700[call_number]@[local_ip]:[local_port]>;tag=[pid]k[call_number]
      To: <sip:survey@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Content-Length: 0
    ]]>
  </send>
  <nop><action><exec rtp_stream="caller.wav,-1,0"/></action></nop>
  <recv request="BYE" timeout="180000"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
</scenario>
"""


# --- the survey: one constant level per prompt ------------------------------------------------

def level(index: int) -> int:
    """8-bit unsigned sample value of prompt ``index`` (0 = the closing message)."""
    return 128 + 8 * (index + 1)


def ulaw_of(value: int) -> int:
    import warnings

    with warnings.catch_warnings():  # audioop: deprecated in 3.11, audioop-lts from 3.13
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop

    return audioop.lin2ulaw(audioop.bias(bytes([value]), 1, -128), 1)[0]


def write_wav_u8(path: Path, value: int, seconds: float) -> None:
    data = bytes([value]) * int(8000 * seconds)
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack(
        "<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def write_survey(folder: Path, questions: int) -> None:
    (folder / "audio").mkdir()
    states = []
    for q in range(1, questions + 1):
        write_wav_u8(folder / "audio" / f"q{q}.wav", level(q), PROMPT_S)
        states.append({
            "name": f"q{q}", "type": "choice",
            "options": [{"key": k, "value": f"option {k}"} for k in "123"],
            "prompt": {"en": {"text": f"Question {q}.", "audio": f"audio/q{q}.wav"}},
        })
    write_wav_u8(folder / "audio" / "end.wav", level(0), 0.5)
    states.append({"name": "thanks", "type": "end",
                   "prompt": {"en": {"text": "Thank you.", "audio": "audio/end.wav"}}})
    survey = {"id": "bench-keypress", "version": "1", "languages": ["en"],
              "settings": {"timeout": 15, "max_attempts": 2}, "states": states}
    (folder / "survey.json").write_text(json.dumps(survey, indent=1))


# --- the keypad: watches each call's prompts and presses keys ----------------------------------

class Keypad:
    """One socket for every call's RTP; calls are told apart by the box's source port."""

    def __init__(self, port: int, questions: int, think_s: tuple[float, float],
                 seed: int, cycle: bool = False) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((HOST, port))
        self.sock.settimeout(0.005)
        self.questions = questions
        self.cycle = cycle  # after the last question comes the first again (the floor)
        self.think_s = think_s
        self.random = random.Random(seed)
        # the prompt byte -> its question number (0: the closing message)
        self.prompt_of = {ulaw_of(level(i)): i for i in range(questions + 1)}
        self.calls: dict[tuple[str, int], dict[str, int]] = {}
        self.latencies_ms: list[float] = []
        self.presses = 0
        self._due: list[tuple[float, tuple[str, int]]] = []
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self._stop = True
        self.thread.join(5)
        self.sock.close()

    def _run(self) -> None:
        while not self._stop:
            now = time.monotonic()
            while self._due and self._due[0][0] <= now:
                _, source = heapq.heappop(self._due)
                self._press(source)
            try:
                data, anc, _, source = self.sock.recvmsg(2048, 64)
            except (TimeoutError, OSError):
                continue
            if len(data) < 172 or data[12] != data[-1]:
                continue  # not one of our constant-level prompts
            prompt = self.prompt_of.get(data[12])
            if prompt is None:
                continue
            kernel_ns = time.time_ns()
            for lvl, kind, payload in anc:
                if lvl == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", payload[:16])
                    kernel_ns = sec * 1_000_000_000 + nsec
            self._heard(source, prompt, kernel_ns)

    def _heard(self, source: tuple[str, int], prompt: int, kernel_ns: int) -> None:
        call = self.calls.setdefault(source, {"waiting_for": 1, "pressed_ns": 0, "seq": 1})
        if prompt != call["waiting_for"]:
            return
        if call["pressed_ns"]:
            self.latencies_ms.append((kernel_ns - call["pressed_ns"]) / 1e6)
            call["pressed_ns"] = 0
        if prompt == 0:  # the closing message: the call is done
            call["waiting_for"] = -1
            return
        call["question"], call["waiting_for"] = prompt, -2  # -2: about to press
        think = self.random.uniform(*self.think_s)
        heapq.heappush(self._due, (time.monotonic() + think, source))

    def _press(self, source: tuple[str, int]) -> None:
        call = self.calls[source]
        question = call["question"]
        if question < self.questions:
            call["waiting_for"] = question + 1
        else:
            call["waiting_for"] = 1 if self.cycle else 0
        digit = self.random.choice((1, 2, 3))
        ts = self.random.getrandbits(32)
        packets = []
        for i, (marker, end) in enumerate(((True, False), (False, False), (False, True),
                                           (False, True), (False, True))):
            header = struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | EVENT_PT,
                                 (call["seq"] + i) & 0xFFFF, ts, 0x5EED0000 + source[1])
            packets.append(header + struct.pack(">BBH", digit, (0x80 if end else 0) | 10,
                                                 160 * (i + 1)))
        call["seq"] += len(packets)
        call["pressed_ns"] = time.time_ns()
        for packet in packets:  # the box reacts to the first; the rest are de-duplicated
            self.sock.sendto(packet, source)
        self.presses += 1


# --- the floor: a bare paced sender --------------------------------------------------------------

def floor_sender(target_port: int) -> None:
    """Child process: one stream paced on a 20 ms clock; an event packet switches the level."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 0))
    sock.setblocking(False)
    print(sock.getsockname()[1], flush=True)
    prompt, seq, deadline = 1, 0, time.monotonic()
    while True:
        try:
            data = sock.recv(2048)
            if len(data) >= 16 and data[1] & 0x7F == EVENT_PT and data[1] & 0x80:
                prompt = prompt % 10 + 1
        except BlockingIOError:
            pass
        now = time.monotonic()
        if now >= deadline:
            header = struct.pack(">BBHII", 0x80, 0, seq & 0xFFFF, seq * 160, 7)
            sock.sendto(header + bytes([ulaw_of(level(prompt))]) * 160, (HOST, target_port))
            seq += 1
            deadline += 0.020
        else:
            time.sleep(min(deadline - now, 0.001))


def measure_floor(presses: int, seed: int) -> list[float]:
    port = free_port()
    keypad = Keypad(port, 10, (0.2, 0.4), seed, cycle=True)
    child = subprocess.Popen([sys.executable, __file__, "--floor", str(port)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        child.stdout.readline()
        deadline = time.monotonic() + presses * 0.5 + 10
        while len(keypad.latencies_ms) < presses and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        child.kill()
        child.wait()
        keypad.close()
    return keypad.latencies_ms[:presses]


# --- ours: edgecall serve with [sip] ---------------------------------------------------------

def measure_ours(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from edge.cli import main as edgecall

    box = workdir / "box"
    with contextlib.redirect_stdout(io.StringIO()):
        assert edgecall(["init", str(box)]) == 0
    write_survey(box, args.questions)
    sip_port, media = free_port(), free_port()
    config = box / "edgecall.toml"
    text = config.read_text().replace('file = "builtin:demo"', 'file = "survey.json"')
    text = text.replace("max_concurrent_calls = 4", f"max_concurrent_calls = {args.calls}")
    text += (f'\n[sip]\nbind_address = "{HOST}"\nadvertised_address = "{HOST}"\n'
             f'port = {sip_port}\nallowed_sources = ["{HOST}"]\ndtmf_mode = "rfc2833"\n'
             'rtp_port_low = 36000\nrtp_port_high = 37999\n')
    config.write_text(text)
    keypad = Keypad(media, args.questions, (args.think_min, args.think_max), args.seed)
    server = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "serve", "--config", str(config)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        cwd=box, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    log: list[str] = []
    ready = threading.Event()

    def read_log() -> None:
        assert server.stderr is not None
        for line in server.stderr:
            log.append(line)
            if "listening" in line:
                ready.set()

    threading.Thread(target=read_log, daemon=True).start()
    try:
        if not ready.wait(30):
            raise SystemExit("edgecall serve did not start:\n" + "".join(log[-20:]))
        sipp_port = free_port()
        rate = max(args.calls / 5.0, 5.0)
        call_s = args.questions * (args.think_max + 1.0) + 30
        sipp = subprocess.run(
            ["sipp", f"{HOST}:{sip_port}", "-sf", str(workdir / "keypress.xml"), "-i", HOST,
             "-p", str(sipp_port), "-mp", str(free_port() + 2000), "-m", str(args.calls),
             "-l", str(args.calls), "-r", str(rate), "-set", "mport", str(media),
             "-nostdin", "-timeout", f"{int(call_s + args.calls / rate + 30)}s",
             "-trace_err"],
            cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, check=False,
        )
        time.sleep(1.0)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        keypad.close()
    if not keypad.latencies_ms:
        errors = sorted(workdir.glob("*errors.log"))
        raise SystemExit("no key press measured; the box's log ends:\n" + "".join(log[-15:])
                         + "".join(e.read_text()[-2000:] for e in errors))
    with sqlite3.connect(box / "data" / "edgecall.db") as db:
        answers = db.execute("SELECT count(*) FROM answers").fetchone()[0]
        complete = db.execute(
            "SELECT count(*) FROM calls WHERE disposition = 'complete'").fetchone()[0]
    return {"latencies": keypad.latencies_ms, "presses": keypad.presses, "answers": answers,
            "complete": complete, "sipp_rc": sipp.returncode}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--think-min", type=float, default=0.3)
    parser.add_argument("--think-max", type=float, default=1.5)
    parser.add_argument("--floor-presses", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--floor", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 1 <= args.questions <= 14:
        parser.error("--questions: 1 to 14 (each prompt needs its own 8-bit level)")
    if args.floor:
        floor_sender(args.floor)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "keypress.xml").write_text(SCENARIO)
        write_caller_wav(workdir / "caller.wav")
        floor = measure_floor(args.floor_presses, args.seed)
        ours = measure_ours(args, workdir)
    lat = ours["latencies"]
    print(f"\nKeypress (RFC 2833) to the first packet of the next prompt; {args.calls} concurrent "
          f"calls of {args.questions} questions through `edgecall serve` [sip], SIPp callers "
          "streaming audio, loopback\n")
    print("| | bare 20 ms paced sender | ours | ours/bare |")
    print("|---|---|---|---|")
    for label, q in (("p50 (ms)", 0.5), ("p90 (ms)", 0.9), ("p99 (ms)", 0.99),
                     ("max (ms)", 1.0)):
        a, b = percentile(floor, q), percentile(lat, q)
        print(f"| {label} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
    print(f"| key presses measured | {len(floor)} | {len(lat)} | |")
    print(f"\nkeys pressed {ours['presses']}, answers stored {ours['answers']}, calls complete "
          f"{ours['complete']} of {args.calls}, SIPp exit {ours['sipp_rc']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
