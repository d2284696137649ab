"""Keeping the write-ahead log small, so that a small or full disk never holds the database
hostage to its own log.

SQLite's default checkpoints the WAL into the database only once it reaches 1000 pages (4 MiB)
and never gives the file's space back. On a data dir of a few MiB the WAL alone filled the disk
before the first checkpoint; a checkpoint then needs room to grow the database, which the WAL
holds: nothing could be written, checkpointed or deleted again (a deadlock on its own WAL).

The policy: every connection that writes checkpoints after 256 KiB of log
(``wal_autocheckpoint``) and cuts the file back to 1 MiB after a reset (``journal_size_limit``);
the box also runs :func:`checkpoint` (TRUNCATE: the file goes to 0 bytes) every 10 minutes and
after the retention purge. A bounded WAL is not enough on its own: see edge.store._room for
the last MiB kept free so that a checkpoint can always finish."""

from __future__ import annotations

import sqlite3
from pathlib import Path

AUTOCHECKPOINT_PAGES = 64  # 256 KiB at SQLite's 4 KiB pages
JOURNAL_SIZE_LIMIT = 1024 * 1024  # bytes the WAL file keeps after a checkpoint reset it
CHECKPOINT_INTERVAL_S = 600  # the box's "wal-checkpoint" job


def apply_wal_policy(conn: sqlite3.Connection) -> None:
    """On every connection that writes (both settings are per connection)."""
    conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")


def checkpoint(db_path: Path, timeout_s: float = 2.0) -> tuple[int, int, int]:
    """Copy the whole WAL into the database and truncate it to 0 bytes; returns SQLite's
    (busy, log frames, checkpointed frames): busy 1 when a reader or writer kept it from
    finishing (tried again next time). A connection of its own, with a short busy timeout, so
    that the store's lock (and the calls behind it) never waits for it."""
    conn = sqlite3.connect(str(db_path), timeout=timeout_s)
    try:
        row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    return int(row[0]), int(row[1]), int(row[2])
