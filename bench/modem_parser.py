"""Throughput of the modem's sans-IO core (framing + URC classification + command FIFO) on a
URC-heavy byte stream, against the floor of merely splitting the same bytes into lines.

Usage: python bench/modem_parser.py [--mb 2]
Prints MB/s for both and the ratio core/floor (how many times slower than bare splitting);
no pass/fail. A Pi-class box receives at most ~11 kB/s on a 115200 baud line.
"""

from __future__ import annotations

import argparse
import random
import time

from hardware.modem._commands import Command, CommandCore, UrcEvent


def _stream(target: int, seed: int = 7) -> tuple[list[bytes], int]:
    rng = random.Random(seed)
    urcs = [b"+DTMF: 5", b"+QTONEDET: 49", b"RING", b'+CLIP: "+255712345678",145,"",0,"",0',
            b'+CMTI: "SM",3', b"+CTTS: 0", b'+CREG: 1,"1A2B","3C4D"', b"\xff\xfenoise"]
    chunks: list[bytes] = []
    size = commands = 0
    while size < target:
        part = bytearray()
        for _ in range(rng.randint(0, 4)):
            part += b"\r\n" + rng.choice(urcs) + b"\r\n"
        part += b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
        commands += 1
        chunks.append(bytes(part))
        size += len(part)
    return chunks, commands


def run_core(chunks: list[bytes], commands: int) -> float:
    core = CommandCore()
    for _ in range(commands):
        core.submit(Command("AT+CSQ", expect=("+CSQ",)))
    urcs = 0
    start = time.perf_counter()
    for chunk in chunks:
        core.take_output(0.0)
        # Serial reads arrive in pieces: feed in 64-byte reads.
        for i in range(0, len(chunk), 64):
            urcs += sum(isinstance(e, UrcEvent) for e in core.receive(chunk[i:i + 64], 0.0))
    return time.perf_counter() - start


def run_floor(chunks: list[bytes]) -> float:
    start = time.perf_counter()
    lines = 0
    for chunk in chunks:
        lines += len([x.decode("latin-1") for x in chunk.split(b"\r\n") if x])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=2.0)
    args = parser.parse_args()
    chunks, commands = _stream(int(args.mb * 1_000_000))
    total = sum(map(len, chunks)) / 1_000_000
    floor = run_floor(chunks)
    core = run_core(chunks, commands)
    print(f"stream {total:.2f} MB, {commands} commands")
    print(f"floor (split lines): {total / floor:8.1f} MB/s")
    print(f"core (frame+classify+FIFO): {total / core:8.1f} MB/s")
    print(f"ratio core/floor: {core / floor:.1f}x slower; headroom vs 115200 baud: "
          f"{total / core * 1_000_000 / 11_520:.0f}x")


if __name__ == "__main__":
    main()
