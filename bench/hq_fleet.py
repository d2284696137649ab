"""HQ under a fleet: 500 simulated boxes each upload a day's batches (200 ten-answer surveys,
2,400 records) at once, to ``edgecall hq serve`` with 4 gunicorn workers on PostgreSQL, then
to one SQLite process (one worker), in the same run. Reports records committed per second,
acknowledgement times (p50, p99) and checks exactly-once: every record once, none missing,
also with a tenth of the boxes sending their batch twice at the same moment (a retry
crossing the first attempt).

    flock /tmp/edgecall-heavy.lock .venv/bin/python bench/hq_fleet.py [--boxes 500]

The batches are made once (a real store filled through its API, encoded by the box's codec,
ids rewritten per box) and kept in a cache directory for the next run. The PostgreSQL
cluster is a throwaway one (tests/support/_postgres.py) with fsync on, as in production.
Client and server share this machine's cores: the figures are a floor.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge.records import OutboxRow  # noqa: E402
from sync._signing import (  # noqa: E402
    HEADER_AUTH,
    HEADER_BATCH,
    HEADER_BOX,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    request_auth,
    sign,
)
from sync.codec import batch_encoder  # noqa: E402
from sync.hq import open_storage  # noqa: E402
from tests.support import fill_surveys, open_store  # noqa: E402
from tests.support._postgres import PostgresCluster  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "edgecall-bench-hq-fleet-v1"
SURVEYS = 200
RECORDS = SURVEYS * 12


def secret_of(box: str) -> str:
    return f"{box}-secret-for-the-fleet-bench"


def prepare(boxes: int, per_box: int) -> dict[str, list[tuple[str, bytes]]]:
    """box -> [(batch id, bytes)], from the cache when it has them."""
    CACHE.mkdir(exist_ok=True)
    names = [f"b{n:04d}" for n in range(boxes)]
    if all((CACHE / f"{name}.{per_box}.json").exists() for name in names):
        out = {}
        for name in names:
            doc = json.loads((CACHE / f"{name}.{per_box}.json").read_text())
            out[name] = [(b, bytes.fromhex(h)) for b, h in doc]
        return out
    print(f"preparing {boxes} boxes' batches (once; cached in {CACHE}) ...", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        store, sim = open_store(Path(tmp), box_id="box-1", fast=True)
        fill_surveys(store, sim, SURVEYS)
        rows = store.reads.outbox_after(0, 10**7)
        store.close()
    assert len(rows) == RECORDS
    chunk = -(-len(rows) // per_box)
    out = {}
    for name in names:
        encode = batch_encoder(name)  # keeps the column forms: later batches are quick
        mine = [OutboxRow(r.seq, name + r.record_id[len("box-1"):], r.version, r.kind,
                          r.body.replace('"box-1.', f'"{name}.'), r.created_utc) for r in rows]
        batches = []
        for i in range(per_box):
            part = mine[i * chunk:(i + 1) * chunk]
            batch_id = f"{name}.bench.hq.{i + 1}"
            batches.append((batch_id, encode(part, batch_id)))
        (CACHE / f"{name}.{per_box}.json").write_text(
            json.dumps([(b, data.hex()) for b, data in batches]))
        out[name] = batches
    return out


def post(port: int, box: str, batch_id: str, body: bytes, attempt: int = 0
         ) -> tuple[float, int, str]:
    """One upload as a box makes it; (seconds to the answer, status, result). A second
    attempt is stamped a millisecond later, as a retry always is (the same stamp would be
    the same signature: a replay)."""
    stamp = int(time.time() * 1000) + attempt
    key = secret_of(box).encode()
    headers = {"Content-Type": "application/vnd.edgecall.batch", HEADER_BOX: box,
               HEADER_BATCH: batch_id, HEADER_TIMESTAMP: str(stamp),
               HEADER_SIGNATURE: sign(key, stamp, body),
               HEADER_AUTH: request_auth(key, stamp, box, batch_id, 0, len(body))}
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.request("POST", "/v1/batches", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    took = time.monotonic() - started
    try:
        result = json.loads(data).get("status") or json.loads(data).get("error", "?")
    except ValueError:
        result = "garbage"
    return took, response.status, result


def serve(database: str, workers: int, threads: int, folder: Path):  # type: ignore[no-untyped-def]
    from tests.sync.hq.hostile import ServeProcess

    config = folder / f"hq-{workers}.toml"
    config.write_text(f'[hq]\ndatabase = "{database}"\nworkers = {workers}\n'
                      f"threads = {threads}\nmax_connections = 5000\n")
    return ServeProcess(config)


def run(label: str, database: str, workers: int, threads: int,
        batches: dict[str, list[tuple[str, bytes]]], folder: Path, twice: float
        ) -> dict[str, float]:
    storage = open_storage(database)
    for box in batches:
        storage.add_box(box, secret_of(box), "2000-01-01T00:00:00.000Z")
    storage.close()
    server = serve(database, workers, threads, folder)
    lock = threading.Lock()
    times: list[float] = []
    results: dict[str, int] = {}
    doubled = set(list(batches)[:int(len(batches) * twice)])

    def box_uploads(box: str) -> None:
        for batch_id, body in batches[box]:
            senders = 2 if box in doubled else 1
            outcomes: list[tuple[float, int, str]] = []

            def send(attempt: int, batch_id: str = batch_id, body: bytes = body,
                     outcomes: list[tuple[float, int, str]] = outcomes) -> None:
                outcomes.append(post(server.port, box, batch_id, body, attempt))

            crossing = [threading.Thread(target=send, args=(i,)) for i in range(senders)]
            for t in crossing:
                t.start()
            for t in crossing:
                t.join()
            with lock:
                for took, status, result in outcomes:
                    times.append(took)
                    key = f"{status} {result}"
                    results[key] = results.get(key, 0) + 1

    try:
        threads_ = [threading.Thread(target=box_uploads, args=(box,)) for box in batches]
        started = time.monotonic()
        for t in threads_:
            t.start()
        for t in threads_:
            t.join()
        wall = time.monotonic() - started
    finally:
        server.stop()
    storage = open_storage(database)
    try:
        stored = storage.count()
        per_box = {r[0]: r[1] for r in storage._rows(
            "SELECT box, count(*) FROM records GROUP BY box")}
        distinct = storage._value("SELECT count(*) FROM (SELECT DISTINCT record_id, version"
                                  " FROM records) x")
    finally:
        storage.close()
    expected = len(batches) * RECORDS
    once = (stored == distinct == expected
            and all(per_box.get(box) == RECORDS for box in batches)
            and all(k.startswith("200") for k in results))
    times.sort()
    figures = {"records": stored, "seconds": wall, "records_per_s": stored / wall,
               "p50_s": statistics.median(times),
               "p99_s": times[min(len(times) - 1, int(len(times) * 0.99))],
               "requests": len(times), "exactly_once": once}
    print(f"{label}: {stored:,} records in {wall:.1f} s = {stored / wall:,.0f} records/s; "
          f"acknowledgement p50 {figures['p50_s']:.2f} s, p99 {figures['p99_s']:.2f} s; "
          f"{len(times)} requests {results}; exactly once: {'yes' if once else 'NO'}",
          flush=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boxes", type=int, default=500)
    parser.add_argument("--batches-per-box", type=int, default=1,
                        help="a day's 2,400 records in this many batches (default 1: what the "
                             "box's defaults seal after a day offline)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--twice", type=float, default=0.1,
                        help="share of boxes sending each batch twice at once (default 0.1)")
    parser.add_argument("--only", choices=("postgresql", "sqlite"), default=None)
    args = parser.parse_args()
    batches = prepare(args.boxes, args.batches_per_box)
    size = sum(len(b) for bs in batches.values() for _, b in bs)
    print(f"{args.boxes} boxes x {SURVEYS} surveys = {args.boxes * SURVEYS:,} surveys, "
          f"{args.boxes * RECORDS:,} records, {size / 1e6:.1f} MB of batches", flush=True)
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.only in (None, "postgresql"):
            cluster = PostgresCluster(durable=True)
            try:
                figures["postgresql"] = run(
                    f"PostgreSQL, {args.workers} workers", cluster.url("bench"), args.workers,
                    args.threads, batches, folder, args.twice)
            finally:
                cluster.stop()
        if args.only in (None, "sqlite"):
            figures["sqlite"] = run("SQLite, one process", str(folder / "hq.db"), 1,
                                    args.threads, batches, folder, args.twice)
    if len(figures) == 2:
        ratio = figures["postgresql"]["records_per_s"] / figures["sqlite"]["records_per_s"]
        print(f"PostgreSQL / SQLite: {ratio:.2f}x; the fleet's day on PostgreSQL in "
              f"{figures['postgresql']['seconds']:.1f} s (goal <= 60 s, >= 3x)")
    return 0 if all(f["exactly_once"] for f in figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
