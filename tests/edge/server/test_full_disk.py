"""A full disk at start: serve starts read-only and callers hear the busy message until the
store can take writes; status reads without creating anything; nothing is left behind. On a
real 2 MiB filesystem (tmpfs, tests.support.small_disk)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.cli import main
from edge.clock import format_utc
from edge.config import Config, parse_config
from edge.lines.simulated import SimulatedLine
from edge.plugins import all_sections
from edge.server import Box, data_dir_problem
from edge.store import Store, move_ack_cursor, register_sink
from tests.support import fill_disk, small_disk

from ..conftest import SPEED

NUMBER = "+255700000001"


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "disk", "2m") as path:
        yield path


def _config(data_dir: Path, **sections: dict) -> Config:
    raw = {"box": {"id": "t", "data_dir": str(data_dir)}, **sections}
    config = parse_config(raw, "test", all_sections())
    return Config(config.path, config.sections, {"pseudonym_key": "ab" * 32})


def _played(call) -> list[str]:  # type: ignore[no-untyped-def]
    return [u.key for _p, us in call.played for u in us]


def test_serve_starts_on_a_full_disk_with_the_busy_message_then_recovers(
        disk: Path, make_script: Callable) -> None:
    data = disk / "data"
    earlier = Store.open(data, box_id="t")  # serve ran before and was killed mid-call
    left_open = earlier.begin_call("sim", None, True, "demo-needs", "1")
    earlier.close()
    filler = fill_disk(disk)
    line = SimulatedLine("sim", speed=SPEED)
    box = Box(_config(data, server={"min_free_mb": 0}), lines=[line], timer_scale=1 / SPEED,
              services=False).start()
    try:
        assert box.store.degraded is not None and "disk is full" in str(box.store.degraded)
        assert box.scheduler.get_job("store-recover") is not None
        turned_away = line.place_call(NUMBER, make_script())
        assert box.server.wait_idle(30)
        assert _played(turned_away) == ["message.busy"]
        assert not list(data.glob(".edgecall-write-test*"))
        filler.unlink()  # space is freed: the next caller is taken and stored
        answered = line.place_call(NUMBER, make_script())
        assert box.server.wait_idle(30)
        assert _played(answered)[-1] != "message.busy"
        assert box.server.dispositions == {"busy": 1, "complete": 1}
        rows = {r["id"]: r["disposition"] for r in box.store.query(
            "SELECT id, disposition FROM calls")}
        assert rows[left_open] == "error"  # closed once the store took writes again
        assert sorted(rows.values()) == ["complete", "error"]
        box._try_store()
        assert box.scheduler.get_job("store-recover") is None
    finally:
        box.stop(grace_s=0)
        line.close()


def test_the_data_dir_check_leaves_nothing_behind_and_a_full_disk_is_no_reason(
        disk: Path) -> None:
    data = disk / "data"
    data.mkdir()
    fill_disk(disk)
    assert data_dir_problem(data) is None  # full, not unwritable: serve starts degraded
    assert os.listdir(data) == []
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    try:
        problem = data_dir_problem(data)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
    assert problem is not None and "not writable" in problem and "Read-only" in problem
    assert os.listdir(data) == []


def test_status_reads_a_full_disk_and_creates_nothing(disk: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    data = disk / "data"
    store = Store.open(data, box_id="t")
    store.end_call(store.begin_call("sim", None, True, "demo-needs", "1"), "complete")
    store.close()
    fill_disk(disk)
    before = sorted(os.listdir(data))
    config = tmp_path / "edgecall.toml"
    config.write_text(f'[box]\nid = "t"\ndata_dir = "{data}"\n')
    assert main(["status", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "today: 1 call" in out or "last 7 days: 1 call" in out
    assert sorted(os.listdir(data)) == before == ["edgecall.db"]


def test_the_box_checkpoints_and_purges_acknowledged_outbox_rows(tmp_path: Path) -> None:
    box = Box(_config(tmp_path / "data", server={"outbox_keep_days": 0}),
              lines=[SimulatedLine("sim")], services=False).start()
    try:
        assert box.scheduler.get_job("wal-checkpoint") is not None
        store = box.store
        for _ in range(3):
            store.end_call(store.begin_call("sim", None, True, "demo-needs", "1"), "complete")
        last = store.reads.outbox_after(0, 100)[-1].seq
        with store._write() as db:
            move_ack_cursor(db.conn, "hq", last, format_utc(0))
            register_sink(db.conn, "twilio", format_utc(0))
        assert box.purge() == 0  # Twilio has acknowledged nothing: every row is kept
        with store._write() as db:
            move_ack_cursor(db.conn, "twilio", last - 2, format_utc(0))
        assert box.purge() == last - 2
        assert [r.seq for r in store.reads.outbox_after(0, 100)] == [last - 1, last]
        wal = store.path.with_name(store.path.name + "-wal")
        assert wal.stat().st_size == 0  # the purge ends with a checkpoint
    finally:
        box.stop(grace_s=0)


def test_status_on_a_database_of_an_older_version_upgrades_it(tmp_path: Path) -> None:
    import sqlite3

    from sqlite_utils import Database

    from edge.store import migrations

    data = tmp_path / "data"
    data.mkdir()
    db = Database(sqlite3.connect(data / "edgecall.db"))
    migrations.apply(db, stop_before="m003_outbound")  # as an older version left it
    db.conn.close()
    config = tmp_path / "edgecall.toml"
    config.write_text(f'[box]\nid = "t"\ndata_dir = "{data}"\n')
    assert main(["status", "-c", str(config)]) == 0
    upgraded = sqlite3.connect(data / "edgecall.db")
    assert upgraded.execute("SELECT count(*) FROM outbound").fetchone() == (0,)
    upgraded.close()
