"""Sealed batches and per-sink state, in the store's SQLite file (own connection, own tables).

A batch's rows and bytes are committed before its first send; a retry, in this process or
after a crash, reads the same bytes back. Acknowledging a batch and moving the sink's
``outbox_acks`` cursor happen in one transaction.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database, Migrations

from edge.clock import format_utc
from edge.store import (
    StoreFull,
    StoreReads,
    apply_wal_policy,
    move_ack_cursor,
    register_sink,
    room_problem,
)

from ._batching import BatchSpan, ack_frontier, fit_batch

migrations = Migrations("edgecall-sync")


@migrations()
def m001_batches(db: Database) -> None:
    db.execute(
        """CREATE TABLE sync_batches (
            sink TEXT NOT NULL,
            seq INTEGER NOT NULL,
            batch_id TEXT NOT NULL UNIQUE,
            first_seq INTEGER NOT NULL,
            last_seq INTEGER NOT NULL,
            records INTEGER NOT NULL,
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            body BLOB,
            state TEXT NOT NULL DEFAULT 'sealed',
            attempts INTEGER NOT NULL DEFAULT 0,
            reason TEXT,
            sealed_utc TEXT NOT NULL,
            done_utc TEXT,
            PRIMARY KEY (sink, seq)
        )"""
    )
    db.execute("CREATE INDEX sync_batches_state ON sync_batches (sink, state, seq)")
    db["sync_sinks"].create(
        {"sink": str, "last_success_utc": str, "last_failure_utc": str, "last_error": str,
         "failures": int},
        pk="sink",
    )


@migrations()
def m002_callbacks(db: Database) -> None:
    # Pending callbacks whose raw number went into a sealed batch of a sink (only with
    # [sync] send_callback_numbers): each is sent once per sink and request.
    db.execute(
        """CREATE TABLE sync_callbacks (
            sink TEXT NOT NULL,
            call_id TEXT NOT NULL,
            requested_utc TEXT NOT NULL,
            batch_seq INTEGER NOT NULL,
            PRIMARY KEY (sink, call_id, requested_utc)
        )"""
    )


@migrations()
def m003_audio(db: Database) -> None:
    # Recordings sent to a sink (sync._audio_sync): the link copy's size, SHA-256 and format
    # as first made (a later copy that differs is never sent under the same reference), how
    # far the upload went, and the bytes spent per UTC day (the sink's audio budget).
    db.execute(
        """CREATE TABLE sync_audio (
            sink TEXT NOT NULL,
            reference TEXT NOT NULL,
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            format TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'sending',
            reason TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            done_utc TEXT,
            PRIMARY KEY (sink, reference)
        )"""
    )
    db.execute(
        """CREATE TABLE sync_audio_days (
            sink TEXT NOT NULL,
            day TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            PRIMARY KEY (sink, day)
        )"""
    )


@dataclass(frozen=True, slots=True)
class Batch:
    sink: str
    seq: int
    batch_id: str
    first_seq: int
    last_seq: int
    records: int
    body: bytes
    attempts: int


def connect(db_path: Path, busy_timeout_s: float = 15.0) -> sqlite3.Connection:
    conn = sqlite3.connect(str(db_path), timeout=busy_timeout_s, check_same_thread=False,
                           isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        apply_wal_policy(conn)  # this connection writes batches: keep the WAL small too
    except sqlite3.Error:
        conn.close()
        raise
    return conn


class Ledger:
    """One sink's batches. ``encode(rows, batch_id) -> bytes`` is the sink's wire format.

    A ledger owns its connection; its methods may be called from two threads (the drain loop
    and the one sealing the next batch ahead): SQLite work is serialised by a lock, encoding
    runs outside it."""

    def __init__(self, conn: sqlite3.Connection, sink: str, box_id: str,
                 encode: Callable[..., bytes],
                 max_records: int, max_bytes: int,
                 now_utc: Callable[[], str] | None = None,
                 callback_numbers: bool = False) -> None:
        self.conn = conn
        # Raw numbers of pending callbacks go into the next sealed batch (the deployment
        # allows it: [sync] send_callback_numbers); otherwise no raw number leaves the box.
        self.callback_numbers = callback_numbers
        self.sink = sink
        self.box_id = box_id
        self.encode = encode
        self.max_records = max_records
        self.max_bytes = max_bytes
        self._now = now_utc or _utc_now
        self._lock = threading.RLock()
        self.store = StoreReads(conn, self._lock)  # the store's tables, read the store's way
        self._bytes_per_row: float | None = None  # of the last batch: first guess for the next
        migrations.apply(Database(conn, execute_plugins=False))
        self.data_dir = Path(conn.execute("PRAGMA database_list").fetchone()[2]).parent
        epoch = conn.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
        # The store's random epoch keeps batch ids unique if a box's disk is wiped.
        self.prefix = f"{box_id}.{epoch[0] if epoch else 'x'}.{sink}"
        if not conn.execute("SELECT 1 FROM outbox_acks WHERE sink = ?", [sink]).fetchone():
            with self._tx() as tx:  # the outbox retention keeps what this sink still needs
                register_sink(tx, sink, self._now())

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def _one(self, sql: str, params: list[Any]) -> Any:
        with self._lock:
            return self.conn.execute(sql, params).fetchone()

    # -- reading --------------------------------------------------------------------------
    def acked_seq(self) -> int:
        return self.store.acked_seq(self.sink)

    def _cursor(self) -> int:
        row = self._one("SELECT max(last_seq) FROM sync_batches WHERE sink = ?", [self.sink])
        return max(row[0] or 0, self.acked_seq())

    def next_sealed(self, after_seq: int = 0) -> Batch | None:
        row = self._one(
            "SELECT sink, seq, batch_id, first_seq, last_seq, records, body, attempts"
            " FROM sync_batches WHERE sink = ? AND state = 'sealed' AND seq > ?"
            " ORDER BY seq LIMIT 1", [self.sink, after_seq])
        return Batch(*row) if row else None

    def backlog(self) -> int:
        return self.store.backlog(self.sink)

    def records_waiting(self) -> bool:
        """Whether records wait for this sink: a sealed batch not yet acknowledged, or
        outbox rows after the last one sealed (checked between recording chunks: records
        always go first)."""
        return self.next_sealed(0) is not None or self.store.has_outbox_after(self._cursor())

    def _pending_callbacks(self) -> list[dict[str, str]]:
        """Pending callbacks (the store's ``callbacks`` table, the one place raw numbers
        live) not yet put in a batch of this sink."""
        sent = set(self.conn.execute(
            "SELECT call_id, requested_utc FROM sync_callbacks WHERE sink = ?", [self.sink]))
        return [c for c in self.store.pending_callbacks()
                if (c["call"], c["requested_utc"]) not in sent]

    # -- writing --------------------------------------------------------------------------
    def seal_next(self) -> Batch | None:
        """Seal the next batch from the outbox rows after the last sealed one (None: none)."""
        with self._lock:
            cursor = self._cursor()
            limit = self.max_records
            if self._bytes_per_row:  # read about what fits, not max_records (20,000) rows
                limit = min(limit, max(100, int(self.max_bytes / self._bytes_per_row * 1.5)))
            rows = self.store.outbox_after(cursor, limit)
            last = self._one("SELECT max(seq) FROM sync_batches WHERE sink = ?",
                             [self.sink])[0] or 0
            callbacks = self._pending_callbacks() if self.callback_numbers and rows else []
        if not rows:
            return None
        seq = last + 1
        batch_id = f"{self.prefix}.{seq}"

        def encode(k: int) -> bytes:
            if callbacks:
                return self.encode(rows[:k], batch_id, callbacks=callbacks)
            return self.encode(rows[:k], batch_id)

        # Encoding takes a while on a Pi: done outside the write lock so calls are not held up.
        n, body = fit_batch(len(rows), encode, self.max_bytes, self._bytes_per_row)
        self._bytes_per_row = len(body) / n
        taken = rows[:n]
        with self._tx() as conn:
            now_last = conn.execute("SELECT max(seq) FROM sync_batches WHERE sink = ?",
                                    [self.sink]).fetchone()[0] or 0
            if now_last != last:  # another process sealed meanwhile: use its batch
                return None
            if reason := room_problem(conn, self.data_dir):  # never the disk's last MiB
                raise StoreFull(reason)
            conn.execute(
                "INSERT INTO sync_batches (sink, seq, batch_id, first_seq, last_seq, records,"
                " size, sha256, body, sealed_utc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [self.sink, seq, batch_id, taken[0].seq, taken[-1].seq, n, len(body),
                 hashlib.sha256(body).hexdigest(), body, self._now()])
            conn.executemany(
                "INSERT OR IGNORE INTO sync_callbacks (sink, call_id, requested_utc, batch_seq)"
                " VALUES (?, ?, ?, ?)",
                [(self.sink, c["call"], c["requested_utc"], seq) for c in callbacks])
        return Batch(self.sink, seq, batch_id, taken[0].seq, taken[-1].seq, n, body, 0)

    def note_attempt(self, batch: Batch) -> None:
        with self._lock:
            self.conn.execute("UPDATE sync_batches SET attempts = attempts + 1 WHERE sink = ?"
                              " AND seq = ?", [self.sink, batch.seq])

    def acknowledge(self, batch: Batch, reason: str = "") -> int:
        """Mark acked (its bytes are no longer needed) and move the cursor; returns it."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE sync_batches SET state = 'acked', body = NULL, reason = ?, done_utc = ?"
                " WHERE sink = ? AND seq = ?", [reason or None, self._now(), self.sink,
                                                 batch.seq])
            current = self.acked_seq()
            spans = [BatchSpan(*r) for r in conn.execute(
                "SELECT seq, first_seq, last_seq, state FROM sync_batches"
                " WHERE sink = ? AND last_seq > ? ORDER BY seq", [self.sink, current])]
            frontier = ack_frontier(spans, current)
            if frontier != current:
                move_ack_cursor(conn, self.sink, frontier, self._now())
            self._success(conn)
        return frontier

    def park(self, batch: Batch, reason: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE sync_batches SET state = 'parked', reason = ?, done_utc = ?"
                " WHERE sink = ? AND seq = ?", [reason[:500], self._now(), self.sink, batch.seq])

    def unpark(self, parked_before_utc: str | None = None) -> int:
        """Put parked batches back in line (after the cause was fixed; or, with
        ``parked_before_utc``, those parked before then: serve's scheduled retry); returns
        how many."""
        with self._tx() as conn:
            return conn.execute(
                "UPDATE sync_batches SET state = 'sealed', reason = NULL, done_utc = NULL"
                " WHERE sink = ? AND state = 'parked' AND (? IS NULL OR done_utc < ?)",
                [self.sink, parked_before_utc, parked_before_utc]).rowcount

    def parked(self) -> int:
        """Batches parked now (whichever run parked them)."""
        return self._one("SELECT count(*) FROM sync_batches WHERE sink = ? AND state ="
                         " 'parked'", [self.sink])[0]

    def note_failure(self, reason: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO sync_sinks (sink, last_failure_utc, last_error, failures)"
                " VALUES (?, ?, ?, 1) ON CONFLICT (sink) DO UPDATE SET"
                " last_failure_utc = excluded.last_failure_utc,"
                " last_error = excluded.last_error, failures = failures + 1",
                [self.sink, self._now(), reason[:500]])

    def _success(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO sync_sinks (sink, last_success_utc, failures) VALUES (?, ?, 0)"
            " ON CONFLICT (sink) DO UPDATE SET last_success_utc = excluded.last_success_utc,"
            " failures = 0", [self.sink, self._now()])


def _utc_now() -> str:
    import time

    return format_utc(time.time())
