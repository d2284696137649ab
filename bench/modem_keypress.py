"""Key-press latency through the modem line: from the simulated module writing a DTMF URC to
the server reading KeyPressed from Call.next_event, over a real pty. Baseline in the same run:
the same bytes read straight from the pty with pyserial (what the port itself costs).

Usage: python bench/modem_keypress.py [--keys 200] [--profile ec25]
Prints p50/p99 of both and their ratio; no pass/fail.
"""

from __future__ import annotations

import argparse
import statistics
import time

import serial

from edge.lines import KeyPressed
from hardware.modem import ModemLine, ModemSettings
from hardware.modem.simulator import ModemSimulator


def _pct(samples: list[float], q: float) -> float:
    return sorted(samples)[min(len(samples) - 1, int(q * len(samples)))] * 1000


def baseline(keys: int) -> list[float]:
    samples = []
    with ModemSimulator("sim800") as sim, serial.Serial(sim.path, timeout=1) as port:
        port.write(b"ATE0\r")
        port.read_until(b"OK\r\n")
        for _ in range(keys):
            start = time.perf_counter()
            sim.noise()  # one unsolicited line, written by the simulator thread
            port.read_until(b"garbage\x81\r\n")
            samples.append(time.perf_counter() - start)
    return samples


def through_line(keys: int, profile: str) -> list[float]:
    samples = []
    with ModemSimulator(profile, ring_interval=0.5) as sim:
        calls = []
        line = ModemLine(ModemSettings(port=sim.path, profile=profile))
        line.start(calls.append)
        try:
            while line.status().state != "ready":
                time.sleep(0.05)
            sim.incoming_call("+255700000000")
            while not calls:
                time.sleep(0.01)
            call = calls[0]
            call.answer()
            for i in range(keys):
                digit = "0123456789"[i % 10]
                start = time.perf_counter()
                sim.press(digit, gap_s=0.0)
                event = call.next_event(5)
                assert event == KeyPressed(digit), event
                samples.append(time.perf_counter() - start)
        finally:
            line.stop()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--profile", default="ec25")
    args = parser.parse_args()
    base = baseline(args.keys)
    line = through_line(args.keys, args.profile)
    print(f"pty read (baseline): p50 {_pct(base, .5):6.2f} ms  p99 {_pct(base, .99):6.2f} ms")
    print(f"modem line ({args.profile}): p50 {_pct(line, .5):6.2f} ms  "
          f"p99 {_pct(line, .99):6.2f} ms")
    print(f"ratio p50 line/baseline: {statistics.median(line) / statistics.median(base):.1f}x")


if __name__ == "__main__":
    main()
