"""The reference HQ's storage: records deduplicated by (record id, version), the batches
seen, and the signatures seen inside the replay window."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from edge.records import canonical_json

from ..codec import Record

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    record_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    box TEXT NOT NULL,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL,
    created_utc TEXT NOT NULL,
    body TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    received_utc TEXT NOT NULL,
    PRIMARY KEY (record_id, version)
);
CREATE INDEX IF NOT EXISTS records_kind ON records (kind, record_id);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    box TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    records INTEGER NOT NULL,
    new_records INTEGER NOT NULL,
    received_utc TEXT NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS callbacks (
    box TEXT NOT NULL,
    call_id TEXT NOT NULL,
    requested_utc TEXT NOT NULL,
    number TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    received_utc TEXT NOT NULL,
    PRIMARY KEY (box, call_id, requested_utc)
);
CREATE TABLE IF NOT EXISTS seen_signatures (
    signature TEXT PRIMARY KEY,
    timestamp_ms INTEGER NOT NULL
);
"""


class HqDb:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                                    timeout=15)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.executescript(_SCHEMA)
        self.lock = threading.Lock()

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def signature_seen(self, signature: str) -> bool:
        with self.lock:
            return self.conn.execute("SELECT 1 FROM seen_signatures WHERE signature = ?",
                                     [signature]).fetchone() is not None

    def store_batch(self, box: str, batch_id: str, sha256: str, records: Iterable[Record],
                    signature: str, timestamp_ms: int, oldest_ms: int,
                    received_utc: str, callbacks: Iterable[dict[str, str]] = ()
                    ) -> tuple[str, int, int]:
        """Commit a batch's new records, its callbacks (raw numbers a box may send for
        pending callbacks) and its signature in one transaction.
        Returns (status, records, new records); status is "stored" or "duplicate"."""
        records = list(records)
        callbacks = list(callbacks)
        with self.lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute("SELECT 1 FROM seen_signatures WHERE signature = ?",
                                [signature]).fetchone():
                    conn.execute("ROLLBACK")
                    return "replay", 0, 0
                conn.execute("INSERT INTO seen_signatures VALUES (?, ?)",
                              [signature, timestamp_ms])
                conn.execute("DELETE FROM seen_signatures WHERE timestamp_ms < ?", [oldest_ms])
                before = conn.total_changes
                conn.executemany(
                    "INSERT OR IGNORE INTO records (record_id, version, box, kind, seq,"
                    " created_utc, body, batch_id, received_utc)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(r.id, r.version, box, r.kind, r.seq, r.created_utc,
                      canonical_json(r.body), batch_id, received_utc) for r in records])
                new = conn.total_changes - before
                conn.executemany(
                    "INSERT OR IGNORE INTO callbacks (box, call_id, requested_utc, number,"
                    " batch_id, received_utc) VALUES (?, ?, ?, ?, ?, ?)",
                    [(box, c["call"], c["requested_utc"], c["number"], batch_id, received_utc)
                     for c in callbacks])
                known = conn.execute("SELECT 1 FROM batches WHERE batch_id = ?",
                                     [batch_id]).fetchone()
                if known:
                    conn.execute("UPDATE batches SET deliveries = deliveries + 1"
                                 " WHERE batch_id = ?", [batch_id])
                else:
                    conn.execute(
                        "INSERT INTO batches (batch_id, box, sha256, records, new_records,"
                        " received_utc) VALUES (?, ?, ?, ?, ?, ?)",
                        [batch_id, box, sha256, len(records), new, received_utc])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        status = "duplicate" if known or (records and new == 0) else "stored"
        return status, len(records), new

    # -- reading ---------------------------------------------------------------------------
    def records(self, kind: str | None = None, all_versions: bool = False
                ) -> list[dict[str, Any]]:
        """Records as dicts (latest version of each id unless ``all_versions``)."""
        sql = ("SELECT record_id, version, box, kind, seq, created_utc, body, batch_id,"
               " received_utc FROM records r")
        where, params = [], []
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if not all_versions:
            where.append("version = (SELECT max(version) FROM records x"
                         " WHERE x.record_id = r.record_id)")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY box, seq"
        with self.lock:
            rows = self.conn.execute(sql, params).fetchall()
        names = ("id", "version", "box", "kind", "seq", "created_utc", "body", "batch",
                 "received_utc")
        out = []
        for row in rows:
            item = dict(zip(names, row, strict=True))
            item["body"] = json.loads(item["body"])
            out.append(item)
        return out

    def batch_sha256(self, box: str, batch_id: str) -> str | None:
        """SHA-256 of the bytes of a batch already committed, None if it is not."""
        with self.lock:
            row = self.conn.execute("SELECT sha256 FROM batches WHERE batch_id = ? AND box = ?",
                                    [batch_id, box]).fetchone()
        return row[0] if row else None

    def callbacks(self) -> list[dict[str, str]]:
        """Callbacks boxes asked HQ to place (only from boxes that send their numbers)."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT box, call_id, requested_utc, number FROM callbacks"
                " ORDER BY box, requested_utc, call_id").fetchall()
        return [dict(zip(("box", "call", "requested_utc", "number"), r, strict=True))
                for r in rows]

    def count(self) -> int:
        with self.lock:
            return self.conn.execute("SELECT count(*) FROM records").fetchone()[0]
