"""kill -9 in the middle of surveys: every answer whose commit returned is in the database."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from edge.store import Store

TARGET = Path(__file__).with_name("kill_target.py")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_loses_no_committed_answer(tmp_path: Path, seed: int) -> None:
    kill_after = random.Random(seed).randint(15, 70)
    child = subprocess.Popen(
        [sys.executable, str(TARGET), str(tmp_path)],
        stdout=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    committed: list[str] = []
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        while len(committed) < kill_after:
            line = child.stdout.readline()
            assert line, "the child stopped before it was killed"
            committed.append(line.split()[1])
        child.send_signal(signal.SIGKILL)
        # Lines already in the pipe were printed after their commit returned, so they count.
        committed += [line.split()[1] for line in child.stdout.read().splitlines()]
    finally:
        child.kill()
        child.wait(10)
    assert child.returncode == -signal.SIGKILL

    db = sqlite3.connect(tmp_path / "edgecall.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {row[0] for row in db.execute("SELECT id FROM answers")}
    outboxed = {row[0] for row in db.execute("SELECT record_id FROM outbox WHERE kind='answer'")}
    missing = [a for a in committed if a not in stored or a not in outboxed]
    assert not missing, f"{len(missing)} committed answers lost: {missing[:5]}"
    assert len(stored) >= len(committed)
    db.close()

    # Reopening closes the calls the kill left open as "error", never as complete.
    store = Store.open(tmp_path, box_id="kill")
    open_before = store.query("SELECT count(*) AS n FROM calls WHERE disposition IS NULL")[0]["n"]
    assert open_before >= 1  # it was killed mid-survey
    assert store.close_interrupted_calls() == open_before
    rows = store.query("SELECT disposition FROM calls WHERE id IN "
                       "(SELECT call_id FROM events WHERE kind = 'interrupted')")
    assert rows and {r["disposition"] for r in rows} == {"error"}
    store.close()


def test_synchronous_full_and_wal(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()
