"""The WAL stays small, so a small or full disk never deadlocks the database on its own log
(edge/store/_wal.py). On a real 2 MiB filesystem (tmpfs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.clock import format_utc
from edge.store import Store, StoreFull, move_ack_cursor
from edge.store._wal import JOURNAL_SIZE_LIMIT
from tests.support import fill_surveys, open_store, small_disk


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "disk", "2m") as path:
        yield path


def _wal(store: Store) -> int:
    wal = store.path.with_name(store.path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_a_2_mib_data_dir_fills_then_frees_itself_not_deadlocked_by_its_wal(disk: Path) -> None:
    store, sim = open_store(disk / "box")
    try:
        surveys = 0
        with pytest.raises(StoreFull):
            while True:  # until the disk is full
                fill_surveys(store, sim, 1, seed=surveys)
                surveys += 1
                assert _wal(store) <= JOURNAL_SIZE_LIMIT
        # SQLite's default (a 4 MiB WAL before the first checkpoint) filled this disk with
        # the schema alone: not one survey, and no checkpoint could ever run again. Now the
        # store stops in the disk's last MiB, where a checkpoint can always finish.
        assert surveys >= 50
        assert "the last 1024 KiB are kept" in str(store.probe())
        store.checkpoint()  # the log back into the database, its file emptied
        assert _wal(store) == 0
        with store._write() as db:  # sync acknowledged everything
            last = db.execute("SELECT max(seq) FROM outbox").fetchone()[0]
            move_ack_cursor(db.conn, "hq", last, format_utc(sim.wall))
        assert store.purge_outbox(format_utc(sim.wall + 1)) > 0  # the retention purge
        store.checkpoint()
        fill_surveys(store, sim, 5, seed=10_000)  # the freed pages take new calls
        assert store.probe() is None
    finally:
        store.close()


def test_checkpoint_truncates_the_wal(tmp_path: Path) -> None:
    store, sim = open_store(tmp_path / "box")
    try:
        fill_surveys(store, sim, 20)
        assert _wal(store) > 0
        busy, _frames, _done = store.checkpoint()
        assert busy == 0 and _wal(store) == 0
        pragmas = {name: store.db.execute(f"PRAGMA {name}").fetchone()[0]
                   for name in ("wal_autocheckpoint", "journal_size_limit")}
        assert pragmas == {"wal_autocheckpoint": 64, "journal_size_limit": JOURNAL_SIZE_LIMIT}
    finally:
        store.close()
