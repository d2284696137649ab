"""SIP line capacity: our hardened line against unpatched pyVoIP 1.6.8, in the same run.

Each variant runs in its own process answering every call and sending audio (a tone); SIPp
places N concurrent calls that stream caller audio for the hold time. The calls' SDP points the
box's outgoing RTP at this script, which timestamps every packet in the kernel (SO_TIMESTAMPNS)
and measures, per stream, the interval between packets. Measured per variant:

- CPU of the serving process per call (% of one core, over the middle half of the hold),
- RSS and thread count with N calls up,
- RTP packet interval p99 / p99.9 and the share of gaps > 30 ms, and the drift of the sender's
  clock (ms of lag per minute, from the first to the last packet of each stream),
- RSS after 10 and after ``--sequential`` short calls (memory kept after calls end).

Usage: .venv/bin/python bench/sip_capacity.py [--calls 20] [--hold 20] [--sequential 200]
       (the issue's goal is measured with --calls 100 --hold 150 --sequential 1000)
Needs SIPp (apt-get install sip-tester). Prints a table with ratios ours/stock; no pass/fail.
Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import array
import itertools
import math
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HOST = "127.0.0.1"
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)

SCENARIO = """<?xml version="1.0" encoding="UTF-8"?>
<scenario name="bench_call">
  <Global variables="mport"/>
  <send retrans="500">
    <![CDATA[
      INVITE sip:bench@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+255700[call_number]@[local_ip]:[local_port]>;tag=[pid]b[call_number]
      To: <sip:bench@[remote_ip]:[remote_port]>
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
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true" timeout="20000"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+255700[call_number]@[local_ip]:[local_port]>;tag=[pid]b[call_number]
      To: <sip:bench@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Content-Length: 0
    ]]>
  </send>
  <nop><action><exec rtp_stream="caller.wav,-1,0"/></action></nop>
  <pause/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+255700[call_number]@[local_ip]:[local_port]>;tag=[pid]b[call_number]
      To: <sip:bench@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" timeout="10000"/>
</scenario>
"""


# --- the serving process ---------------------------------------------------------------------

def tone_u8(seconds: float) -> bytes:
    return bytes(128 + round(60 * math.sin(2 * math.pi * 440 * i / 8000))
                 for i in range(int(8000 * seconds)))


def tone_s16(seconds: float) -> bytes:
    """The same tone in our line's format (16-bit linear, encoded to G.711 per call)."""
    return b"".join(struct.pack("<h", round(15360 * math.sin(2 * math.pi * 440 * i / 8000)))
                    for i in range(int(8000 * seconds)))


def serve(kind: str, sip_port: int, rtp_low: int, server_port: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import pyVoIP.VoIP  # noqa: F401  (before pyVoIP.SIP)

    second = tone_u8(1.0)
    if kind == "ours":
        import audioop

        from hardware.sip._compat import HardenedPhone

        # One shared G.711 buffer (as the line's G711Cache gives); silence after a minute.
        long_prompt = audioop.lin2ulaw(tone_s16(1.0) * 60, 2)

        def answer(call):  # on the SIP thread: must be quick
            call.answer()
            call.play(long_prompt, None, encoded_as="PCMU")

        phone = HardenedPhone(HOST, server_port, "", "", myIP=HOST, callCallback=answer,
                              sipPort=sip_port, rtpPortLow=rtp_low, rtpPortHigh=rtp_low + 2000)
        phone.start()
    else:
        from pyVoIP.VoIP.VoIP import CallState, VoIPPhone

        def answer(call):  # stock runs this in its per-call timer thread, 1 s after ringing
            call.answer()
            while call.state == CallState.ANSWERED:  # the documented way: write, then wait
                call.write_audio(second)
                time.sleep(1.0)

        phone = VoIPPhone(HOST, server_port, "", "", myIP=HOST, callCallback=answer,
                          sipPort=sip_port, rtpPortLow=rtp_low, rtpPortHigh=rtp_low + 2000)
        # Stock cannot run without a registrar: bind and receive by hand; it sends responses
        # to its configured server, so the parent passes SIPp's port as --server.
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((HOST, sip_port))
        phone.sip.s = phone.sip.out = sock
        phone.sip.NSD = phone.NSD = True
        threading.Thread(target=phone.sip.recv_loop, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()  # until the parent closes stdin
    os._exit(0)


# --- measurement -------------------------------------------------------------------------------

def proc_stat(pid: int) -> tuple[float, int, int]:
    """(CPU seconds, RSS bytes, threads) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    status = Path(f"/proc/{pid}/status").read_text()
    lines = status.splitlines()
    rss = int(next(x for x in lines if x.startswith("VmRSS")).split()[1]) * 1024
    threads = int(next(x for x in lines if x.startswith("Threads")).split()[1])
    return cpu, rss, threads


class Receiver:
    """Receives the box's RTP on one port; kernel arrival times per SSRC."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((HOST, port))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.streams: dict[tuple[int, int], array.array] = {}
        self.recording = False
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                data, anc, _, source = self.sock.recvmsg(2048, 64)
            except (TimeoutError, OSError):
                continue
            if not self.recording or len(data) < 12:
                continue
            t_ns = time.monotonic_ns()
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", payload[:16])
                    t_ns = sec * 1_000_000_000 + nsec
            # By source port and SSRC: pyVoIP draws SSRCs from only 1000..65530, so two of
            # 100 calls share one about once in 13 runs (their packets would be merged).
            key = (source[1], struct.unpack(">I", data[8:12])[0])
            self.streams.setdefault(key, array.array("q")).append(t_ns)

    def close(self) -> None:
        self._stop = True
        self.thread.join(2)
        self.sock.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def rtp_stats(streams: dict[tuple[int, int], array.array]) -> dict[str, float]:
    intervals: list[float] = []
    drifts: list[float] = []
    for times in streams.values():
        if len(times) < 50:
            continue
        ms = [(b - a) / 1e6 for a, b in itertools.pairwise(times)]
        intervals += ms
        span_s = (times[-1] - times[0]) / 1e9
        drifts.append((span_s - 0.020 * (len(times) - 1)) / span_s * 60_000)  # ms per minute
    gaps = sum(1 for v in intervals if v > 30)
    return {
        "p99": percentile(intervals, 0.99), "p999": percentile(intervals, 0.999),
        "gaps": 100.0 * gaps / max(len(intervals), 1),
        "drift": sum(drifts) / max(len(drifts), 1), "streams": len(drifts),
    }


def sipp(workdir: Path, target: int, sipp_port: int, media: int, calls: int, hold_ms: int,
         rate: float, timeout_s: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["sipp", f"{HOST}:{target}", "-sf", str(workdir / "bench.xml"), "-i", HOST,
         "-p", str(sipp_port), "-mp", str(media), "-m", str(calls), "-l", str(calls),
         "-r", str(rate), "-d", str(hold_ms), "-set", "mport", str(media + 4000),
         "-nostdin", "-timeout", f"{timeout_s}s", "-trace_err"],
        cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def run_variant(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    sip_port, sipp_port = free_port(), free_port()
    rtp_low = 30000 if kind == "ours" else 33000
    media = 40000 if kind == "ours" else 42000
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--port", str(sip_port),
         "--rtp", str(rtp_low), "--server", str(sipp_port)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    server.stdout.readline()
    # The calls' SDP names media + 4000 (unused by SIPp): the box's RTP comes to us.
    receiver = Receiver(media + 4000)
    try:
        idle = proc_stat(server.pid)
        rate = max(args.calls / 5.0, 5.0)
        proc = sipp(workdir, sip_port, sipp_port, media, args.calls, int(args.hold * 1000),
                    rate, int(args.hold + 60))
        time.sleep(args.calls / rate + 2.0)  # ramp-up
        receiver.recording = True
        time.sleep(args.hold * 0.25)
        cpu0, _, _ = proc_stat(server.pid)
        t0 = time.monotonic()
        time.sleep(args.hold * 0.5)
        cpu1, rss, threads = proc_stat(server.pid)
        cpu_pct = 100.0 * (cpu1 - cpu0) / (time.monotonic() - t0)
        receiver.recording = False
        proc.wait(timeout=args.hold + 90)
        result = {"cpu_per_call": cpu_pct / args.calls, "rss_mb": rss / 2**20,
                  "rss_per_call": (rss - idle[1]) / 2**20 / args.calls,
                  "threads": threads, "idle_rss_mb": idle[1] / 2**20,
                  **rtp_stats(receiver.streams)}
        if args.sequential:
            seq_rss = []
            for total in (10, args.sequential):
                p = sipp(workdir, sip_port, sipp_port, media, total, 300, 20.0, total + 60)
                p.wait(timeout=total + 90)
                time.sleep(1.0)
                seq_rss.append(proc_stat(server.pid)[1] / 2**20)
            result["rss_after_10"], result["rss_after_n"] = seq_rss
        return result
    finally:
        receiver.close()
        server.stdin.close()
        server.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--hold", type=float, default=20.0)
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument("--variants", default="stock,ours",
                        help="comma-separated; the ratio column needs both (default)")
    parser.add_argument("--serve", choices=("ours", "stock"))
    parser.add_argument("--port", type=int)
    parser.add_argument("--rtp", type=int)
    parser.add_argument("--server", type=int, default=5060)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.rtp, args.server)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "bench.xml").write_text(SCENARIO)
        write_caller_wav(workdir / "caller.wav")
        results = {kind: run_variant(kind, args, workdir) if kind in args.variants.split(",")
                   else {} for kind in ("stock", "ours")}
    print_table(results, args)
    return 0


def write_caller_wav(path: Path) -> None:
    import audioop

    lin = b"".join(struct.pack("<h", round(8000 * math.sin(2 * math.pi * 300 * i / 8000)))
                   for i in range(8000))
    data = audioop.lin2ulaw(lin, 2)
    fmt = struct.pack("<HHIIHH", 7, 1, 8000, 8000, 1, 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack(
        "<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def print_table(results: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    rows = [
        ("CPU per call (% of a core)", "cpu_per_call", "{:.3f}"),
        ("RSS with calls up (MB)", "rss_mb", "{:.1f}"),
        ("RSS growth per call (MB)", "rss_per_call", "{:.2f}"),
        ("threads with calls up", "threads", "{:.0f}"),
        ("RTP interval p99 (ms)", "p99", "{:.2f}"),
        ("RTP interval p99.9 (ms)", "p999", "{:.2f}"),
        ("gaps > 30 ms (%)", "gaps", "{:.3f}"),
        ("sender drift (ms/min)", "drift", "{:.1f}"),
        ("streams measured", "streams", "{:.0f}"),
        ("RSS idle (MB)", "idle_rss_mb", "{:.1f}"),
    ]
    if args.sequential:
        rows += [("RSS after 10 calls (MB)", "rss_after_10", "{:.1f}"),
                 (f"RSS after {args.sequential} calls (MB)", "rss_after_n", "{:.1f}")]
    print(f"\n{args.calls} concurrent calls held {args.hold:g} s, loopback, SIPp callers "
          "streaming audio\n")
    print("| metric | unpatched pyVoIP | ours | ours/unpatched |")
    print("|---|---|---|---|")
    for label, key, fmt in rows:
        stock, ours = results["stock"].get(key, float("nan")), results["ours"].get(
            key, float("nan"))
        ratio = ours / stock if stock not in (0, 0.0) and stock == stock else float("nan")
        print(f"| {label} | {fmt.format(stock)} | {fmt.format(ours)} | {ratio:.2f} |")


if __name__ == "__main__":
    raise SystemExit(main())
