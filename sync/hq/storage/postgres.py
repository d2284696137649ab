"""HQ storage in PostgreSQL (psycopg 3), for a fleet: several workers, each with a few
connections. Records arrive through COPY into a per-connection temporary table, then one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``: far fewer round trips than a row each."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg

from ._base import Cursor, Storage, Tx
from ._schema import schema

_COLUMNS = "record_id, version, box, kind, seq, created_utc, body, batch_id, received_utc"
# Per connection, emptied by each batch: COPY cannot do ON CONFLICT itself.
_INCOMING = ("CREATE TEMP TABLE IF NOT EXISTS incoming (record_id TEXT, version BIGINT,"
             " box TEXT, kind TEXT, seq BIGINT, created_utc TEXT, body TEXT, batch_id TEXT,"
             " received_utc TEXT)")
_SCHEMA_LOCK = 0x6564_6763  # advisory lock id: workers starting together create it once


class _PgTx:
    """Shared SQL (``?`` placeholders) on a psycopg cursor (``%s``)."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        self.cursor.execute(sql.replace("?", "%s"), list(params))  # type: ignore[arg-type]
        return self.cursor


class PostgresStorage(Storage):
    dialect = "postgresql"

    def __init__(self, url: str, pool_size: int = 8, timeout_s: float = 30.0) -> None:
        super().__init__()
        self.url = url
        self.timeout_s = timeout_s
        self._idle: queue.LifoQueue[psycopg.Connection[Any]] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(pool_size)
        self._all: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        with self._tx() as tx:
            tx.execute(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
            for statement in schema("BYTEA"):
                tx.execute(statement)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if not self._slots.acquire(timeout=self.timeout_s):
            raise TimeoutError("no database connection free")
        conn = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = psycopg.connect(self.url, autocommit=True,
                                       connect_timeout=int(self.timeout_s))
                with self._lock:
                    self._all.append(conn)
            yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError):
            if conn is not None:  # a broken connection is not given out again
                self._forget(conn)
                conn = None
            raise
        finally:
            if conn is not None:
                self._idle.put(conn)
            self._slots.release()

    def _forget(self, conn: psycopg.Connection[Any]) -> None:
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
        conn.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Tx]:
        with self._connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield _PgTx(cursor)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._connection() as conn, conn.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s"), list(params))  # type: ignore[arg-type]
            return cursor.fetchall()

    def _insert_records(self, tx: Tx, rows: list[tuple[Any, ...]]) -> int:
        cursor = tx.cursor  # type: ignore[attr-defined]
        cursor.execute(_INCOMING)
        cursor.execute("TRUNCATE incoming")
        with cursor.copy(f"COPY incoming ({_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # Ordered: concurrent commits of overlapping records lock them in the same order.
        cursor.execute(f"INSERT INTO records ({_COLUMNS}) SELECT {_COLUMNS} FROM incoming"
                       " ORDER BY record_id, version ON CONFLICT (record_id, version) DO NOTHING")
        return int(cursor.rowcount)

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
