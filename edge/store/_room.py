"""The last MiB of the disk is the database's way out of a full disk.

A checkpoint copies the WAL into the database; pages new to the database make the file grow.
When the disk fills while the WAL holds such pages, the checkpoint needs space the WAL holds:
nothing can be written, checkpointed or deleted again (reproduced on a 2 MiB data dir, see
tests/edge/store/test_wal.py). So the box's own writes that may grow the database stop while
less than ``GUARD_BYTES`` are free, counting the database's own free pages (rows the retention
purge deleted are reused before the file grows). Writes that free space (the purge, an
acknowledgement dropping a batch's bytes) are exempt. ``GUARD_BYTES`` covers what a checkpoint
can need: ``AUTOCHECKPOINT_PAGES`` plus the largest transaction (a sync batch), twice over."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from ._wal import AUTOCHECKPOINT_PAGES

GUARD_BYTES = 1024 * 1024
assert GUARD_BYTES >= 2 * (AUTOCHECKPOINT_PAGES * 4096 + 64 * 1024)


def room(conn: sqlite3.Connection, data_dir: Path) -> int:
    """Bytes the database can still grow into: free disk plus its own free pages."""
    free = shutil.disk_usage(data_dir).free
    pages = conn.execute("PRAGMA freelist_count").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    return free + pages * size


def room_problem(conn: sqlite3.Connection, data_dir: Path) -> str | None:
    """Why a write that may grow the database must not start now (None: it may)."""
    try:
        left = room(conn, data_dir)
    except OSError as exc:
        return f"data directory unreadable: {exc}"
    if left < GUARD_BYTES:
        return (f"disk is full in {data_dir}: {left // 1024} KiB left, the last "
                f"{GUARD_BYTES // 1024} KiB are kept so the database can always checkpoint")
    return None
