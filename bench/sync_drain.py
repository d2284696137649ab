#!/usr/bin/env python3
"""Drain benchmark: sealed, compressed batches against a naive one-record-per-POST client,
measured in the same run.

Fills a real store (edge.store.Store API) with N ten-answer surveys, then drains it:
(a) to the reference HQ on loopback; (b) to HQ through a user-space link emulator (default
40 kbit/s, 600 ms RTT, a dropped connection every ~90 s on average); (c) into the Twilio Sync
stand-in (20 writes/s per Map). Wire bytes are counted at a TCP proxy (HTTP headers and
responses included). HQ, the link emulator and the Twilio stand-in each run in their own
process, as they are other machines (or the network) in the field. The naive client is
measured on a sample of records and extrapolated (it would take hours over the emulated
link); the sample sizes are printed.

    .venv/bin/python bench/sync_drain.py [--surveys 20000] [--skip-link] [--only a,b,c]

Goals (issue 5): >= 20x fewer bytes and requests than naive; <= 60 wire bytes per survey;
(a) <= 30 s, (b) <= 5 min, (c) <= 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

# The checkout first: the stand-ins (tests.support) are not installed, only importable from
# the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync._batching import Backoff
from sync._hq import HqSink
from sync._ledger import Ledger, connect
from sync._runner import drain
from sync._signing import sign
from sync._twilio import TwilioSink
from sync.codec import batch_encoder
from sync.hq import open_storage
from tests.support import LinkEmulator, TwilioSyncStandIn, fill_surveys, open_store

SECRET = b"bench-secret-of-box-1"
IS, SK, TW_SECRET = "IS" + "0" * 32, "SK" + "1" * 32, "bench-twilio-secret"
MAPS = ("edgecall-0", "edgecall-1", "edgecall-2", "edgecall-3")


# -- the naive baseline ---------------------------------------------------------------------
class _NaiveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one segment: with Nagle on and unbuffered writes, each
    # response waits for the client's delayed ACK (40 ms per request on Linux).
    disable_nagle_algorithm = True
    wbufsize = 1 << 16
    server: Any

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        record = json.loads(body)
        with self.server.lock:
            self.server.db.execute(
                "INSERT OR IGNORE INTO records VALUES (?, ?, ?)",
                [record["id"], record["version"], json.dumps(record["body"])])
            self.server.db.commit()
        reply = b'{"status":"stored"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def naive_receiver(path: Path) -> ThreadingHTTPServer:
    import sqlite3

    server = ThreadingHTTPServer(("127.0.0.1", 0), _NaiveHandler)
    server.daemon_threads = True
    server.db = sqlite3.connect(str(path), check_same_thread=False)  # type: ignore[attr-defined]
    # Kinder to the naive side than HQ is to itself (WAL, no fsync per commit): the baseline
    # is not slowed by its receiver's disk.
    server.db.execute("PRAGMA journal_mode=WAL")  # type: ignore[attr-defined]
    server.db.execute("PRAGMA synchronous=NORMAL")  # type: ignore[attr-defined]
    server.db.execute("CREATE TABLE records (id TEXT, version INT, body TEXT,"  # type: ignore
                      " PRIMARY KEY (id, version))")
    server.lock = threading.Lock()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def naive_post_records(url: str, rows: list[Any]) -> int:
    """One signed JSON record per POST, as a straightforward client would; returns requests."""
    session = requests.Session()
    for row in rows:
        body = json.dumps({"id": row.record_id, "version": row.version, "kind": row.kind,
                           "created_utc": row.created_utc, "body": row.data()}).encode()
        stamp = int(time.time() * 1000)
        headers = {"Content-Type": "application/json", "X-Edgecall-Box": "box-1",
                   "X-Edgecall-Timestamp": str(stamp),
                   "X-Edgecall-Signature": sign(SECRET, stamp, body)}
        while True:
            try:
                if session.post(url, data=body, headers=headers, timeout=60).ok:
                    break
            except requests.RequestException:
                time.sleep(1)
    return len(rows)


def naive_twilio(url: str, rows: list[Any]) -> int:
    """One Map item per record into one Map, backing off on 429."""
    session = requests.Session()
    session.auth = (SK, TW_SECRET)
    items = f"{url}/v1/Services/{IS}/Maps/{MAPS[0]}/Items"
    for row in rows:
        data = json.dumps({"id": row.record_id, "version": row.version, "kind": row.kind,
                           "created_utc": row.created_utc, "body": row.data()})
        key = f"{row.record_id}@{row.version}"
        while True:
            response = session.post(items, data={"Key": key, "Data": data}, timeout=60)
            if response.status_code in (201, 409):
                break
            time.sleep(0.05)
    return len(rows)


# -- helpers --------------------------------------------------------------------------------
class Child:
    """The link emulator or the Twilio stand-in in its own process: in the field neither the
    network nor Twilio shares the box's interpreter lock, and here, in-process, every 512-byte
    hop of the emulator would wait for the box's encoder to let go of it (up to 5 ms each).
    Prints its port; answers "stats" on stdin with a JSON line; ends at EOF."""

    def __init__(self, kind: str, **params: Any) -> None:
        root = Path(__file__).resolve().parents[1]
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--child", kind, json.dumps(params)],
            env={**os.environ, "PYTHONPATH": str(root)}, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.server_address = ("127.0.0.1", self.port)
        self.url = f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(30)


class LinkProcess(Child):
    def __init__(self, upstream: tuple[str, int], rate_bps: float | None = None,
                 rtt_s: float = 0.0, drop_every_s: float | None = None, seed: int = 1) -> None:
        super().__init__("link", upstream=list(upstream), rate=rate_bps, rtt=rtt_s,
                         drop_every=drop_every_s, seed=seed)

    @property
    def total(self) -> int:
        return int(self.stats()["total"])


def child_main(kind: str, params: dict[str, Any]) -> int:
    if kind == "link":
        link = LinkEmulator(tuple(params["upstream"]), params["rate"], params["rtt"],
                            params["drop_every"], seed=params["seed"]).start()
        port, close = link.port, link.close

        def stats() -> dict[str, Any]:
            return {"total": link.stats.total, "drops": link.stats.drops}
    else:
        twilio = TwilioSyncStandIn(IS, SK, TW_SECRET, MAPS, writes_per_window=20, window_s=1.0)
        port, close = twilio.server_address[1], twilio.close

        def stats() -> dict[str, Any]:
            return dict(twilio.stats)
    print(port, flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            print(json.dumps(stats()), flush=True)
    close()
    return 0

class HqProcess:
    """``edgecall hq serve`` in its own process, as HQ is another machine in the field (and
    so that its decoding does not share this process's interpreter lock)."""

    def __init__(self, tmp: Path, name: str, extra: tuple[str, ...] = ()) -> None:
        boxes = tmp / "boxes.toml"
        boxes.write_text(f'[boxes]\nbox-1 = "{SECRET.decode()}"\n')
        self.db_path = tmp / f"{name}.db"
        root = Path(__file__).resolve().parents[1]
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from edge.cli import main; sys.exit(main())",
             "hq", "serve", "--port", "0", "--workers", "1", "--boxes", str(boxes), "--db",
             str(self.db_path), *extra],
            env={**os.environ, "PYTHONPATH": str(root)}, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline() if self.process.stdout else ""
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        self.server_address = ("127.0.0.1", port)

    def count(self) -> int:
        storage = open_storage(self.db_path)
        try:
            return storage.count()
        finally:
            storage.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def start_hq(tmp: Path, name: str) -> HqProcess:
    return HqProcess(tmp, name)


def ours(store: Any, sink: Any, sink_name: str, max_bytes: int, max_records: int = 20000
         ) -> tuple[float, Any]:
    ledger = Ledger(connect(store.path), sink_name, "box-1", batch_encoder("box-1"),
                    max_records, max_bytes)
    started = time.monotonic()
    report = drain(ledger, sink, wait=lambda s: time.sleep(s) or False, max_wait_s=3600,
                   backoff=Backoff(base_s=1.0, cap_s=10.0))
    took = time.monotonic() - started
    if not report.done:
        raise SystemExit(f"{sink_name}: drain did not finish: {report}")
    return took, report


def row(label: str, secs: float, requests_: float, wire: float, surveys: int,
        note: str = "") -> list[str]:
    return [label, f"{secs:,.1f}", f"{requests_:,.0f}", f"{wire:,.0f}", f"{wire / surveys:,.1f}",
            note]


def print_table(rows: list[list[str]]) -> None:
    head = ["scenario", "drain s", "requests", "wire bytes", "bytes/survey", ""]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print("  ".join(c.rjust(w) if i in (1, 2, 3, 4) else c.ljust(w)
                        for i, (c, w) in enumerate(zip(r, widths, strict=True))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--surveys", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=40_000, help="link bits per second")
    parser.add_argument("--rtt", type=float, default=0.6, help="link round trip, seconds")
    parser.add_argument("--drop-every", type=float, default=90.0,
                        help="mean seconds between dropped connections on the link")
    parser.add_argument("--naive-loopback", type=int, default=3000,
                        help="records the naive client sends in (a) (then extrapolated)")
    parser.add_argument("--naive-link", type=int, default=30)
    parser.add_argument("--naive-twilio", type=int, default=100)
    parser.add_argument("--skip-link", action="store_true")
    parser.add_argument("--only", default="a,b,c",
                        help="scenarios to run, e.g. 'a,c' (each with its naive baseline)")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if args.skip_link:
        only.discard("b")

    tmp = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    store, sim = open_store(tmp / "box", box_id="box-1", fast=True)
    started = time.monotonic()
    fill_surveys(store, sim, args.surveys)
    rows_all = store.reads.outbox_after(0, 10**7)
    n_records = len(rows_all)
    print(f"outbox: {args.surveys:,} surveys = {n_records:,} records, "
          f"{sum(len(r.body) for r in rows_all):,} bytes of JSON bodies "
          f"(filled in {time.monotonic() - started:.0f} s through the Store API)")
    results: list[list[str]] = []
    checks: list[tuple[str, bool]] = []
    if "a" in only:  # loopback HQ
        checks += scenario_a(args, tmp, store, rows_all, results)
    if "b" in only:  # HQ through the emulated GPRS link
        checks += scenario_b(args, tmp, store, rows_all, results)
    if "c" in only:  # the Twilio Sync stand-in
        checks += scenario_c(args, store, rows_all, results)

    print()
    print_table(results)
    print()
    for label, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {label}")
    store.close()
    return 0


def naive_run(db_path: Path, sample: list[Any], n_records: int, link_args: tuple[Any, ...]
              ) -> tuple[float, float]:
    """(seconds, wire bytes) for the naive client to send all ``n_records``, extrapolated
    from posting ``sample`` one record per request through a link emulator."""
    naive = naive_receiver(db_path)
    link = LinkProcess(naive.server_address[:2], *link_args)
    try:
        t0 = time.monotonic()
        naive_post_records(link.url + "/records", sample)
        scale = n_records / len(sample)
        return (time.monotonic() - t0) * scale, link.total * scale
    finally:
        link.close()


def scenario_a(args: Any, tmp: Path, store: Any, rows_all: list[Any], results: list[list[str]]
               ) -> list[tuple[str, bool]]:
    n_records, surveys = len(rows_all), args.surveys
    hq = start_hq(tmp, "hq-a")
    link = LinkProcess(hq.server_address[:2])  # counts bytes, no shaping
    sink = HqSink(link.url + "/v1/batches", "box-1", SECRET)
    took, report = ours(store, sink, "bench-a", 48 * 1024)
    assert hq.count() == n_records, "HQ does not hold every record"
    hq.stop()
    a_bytes, a_req, a_time = link.total, sink.requests, took
    results.append(row("(a) ours, loopback HQ", took, sink.requests, a_bytes, surveys,
                       f"{report.acked_batches} batches"))
    link.close()
    na_time, na_bytes = naive_run(tmp / "naive-a.db", rows_all[: args.naive_loopback],
                                  n_records, ())
    results.append(row("(a) naive, loopback", na_time, n_records, na_bytes, surveys,
                       f"extrapolated from {args.naive_loopback:,} records"))
    print(f"(a) ratios: bytes {na_bytes / a_bytes:,.0f}x, requests {n_records / a_req:,.0f}x, "
          f"time {na_time / a_time:,.1f}x")
    return [("(a) >= 20x fewer bytes", na_bytes / a_bytes >= 20),
            ("(a) >= 20x fewer requests", n_records / a_req >= 20),
            ("(a) <= 60 wire bytes per survey", a_bytes / surveys <= 60),
            ("(a) drain <= 30 s", a_time <= 30)]


def scenario_b(args: Any, tmp: Path, store: Any, rows_all: list[Any], results: list[list[str]]
               ) -> list[tuple[str, bool]]:
    n_records, surveys = len(rows_all), args.surveys
    hq_b = start_hq(tmp, "hq-b")
    link = LinkProcess(hq_b.server_address[:2], args.rate, args.rtt, args.drop_every, seed=3)
    sink = HqSink(link.url + "/v1/batches", "box-1", SECRET, read_timeout_s=120)
    took, report = ours(store, sink, "bench-b", 48 * 1024)
    assert hq_b.count() == n_records, "HQ does not hold every record"
    hq_b.stop()
    link_stats = link.stats()
    results.append(row("(b) ours, 40 kbit/s link", took, sink.requests, link_stats["total"],
                       surveys, f"{link_stats['drops']} drops, {report.failures} retries, "
                       f"{sink.resumed} resumed"))
    b_bytes, b_req, b_time = link_stats["total"], sink.requests, took
    link.close()
    nb_time, nb_bytes = naive_run(tmp / "naive-b.db", rows_all[: args.naive_link], n_records,
                                  (args.rate, args.rtt, None))
    results.append(row("(b) naive, 40 kbit/s link", nb_time, n_records, nb_bytes, surveys,
                       f"extrapolated from {args.naive_link} records, no drops"))
    print(f"(b) ratios: bytes {nb_bytes / b_bytes:,.0f}x, requests "
          f"{n_records / b_req:,.0f}x, time {nb_time / b_time:,.0f}x")
    return [("(b) >= 20x fewer bytes", nb_bytes / b_bytes >= 20),
            ("(b) drain <= 5 min", b_time <= 300)]


def scenario_c(args: Any, store: Any, rows_all: list[Any], results: list[list[str]]
               ) -> list[tuple[str, bool]]:
    n_records, surveys = len(rows_all), args.surveys
    twilio = Child("twilio")  # 20 writes per second per Map, 16 KiB items, 54208...
    link = LinkProcess(twilio.server_address)
    sink = TwilioSink(link.url, IS, SK, TW_SECRET, MAPS, writes_per_s=15)
    took, report = ours(store, sink, "bench-c", 11 * 1024)
    results.append(row("(c) ours, Twilio stand-in", took, sink.requests, link.total,
                       surveys, f"{report.acked_batches} items over {len(MAPS)} Maps, "
                       f"{twilio.stats().get('error-54009', 0)} x 429"))
    c_time = took
    link.close()
    link = LinkProcess(twilio.server_address)
    sample = rows_all[: args.naive_twilio]
    t0 = time.monotonic()
    naive_twilio(link.url, sample)
    scale = n_records / len(sample)
    results.append(row("(c) naive, item per record", (time.monotonic() - t0) * scale,
                       n_records, link.total * scale, surveys,
                       f"extrapolated from {len(sample)} records, one Map"))
    link.close()
    twilio.close()
    return [("(c) drain <= 60 s", c_time <= 60)]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        sys.exit(child_main(sys.argv[2], json.loads(sys.argv[3])))
    sys.exit(main())
