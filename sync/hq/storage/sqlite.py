"""HQ storage in one SQLite file: the embedded default for one small HQ. One connection
behind a lock per process; several processes (workers) serialise on SQLite's write lock."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ._base import Storage, Tx
from ._schema import schema


class SqliteStorage(Storage):
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.url = str(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                                    timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")  # an acknowledged batch survives a crash
        self.lock = threading.RLock()
        with self._tx() as tx:
            for statement in schema("BLOB"):
                tx.execute(statement)

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Tx]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.conn.execute(sql, list(params)).fetchall()

    def _insert_records(self, tx: Tx, rows: list[tuple[Any, ...]]) -> int:
        before = self.conn.total_changes
        self.conn.executemany(
            "INSERT INTO records (record_id, version, box, kind, seq, created_utc, body,"
            " batch_id, received_utc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (record_id, version) DO NOTHING", rows)
        return self.conn.total_changes - before

    def close(self) -> None:
        with self.lock:
            self.conn.close()
