"""kill -9 while the box is dialling: after the restart no attempt is dialled twice and no
callback is lost (every job ends answered, the cut attempts recorded failed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from edge.store import Store

TARGET = Path(__file__).with_name("dispatch_target.py")
JOBS = 6


def _start(data_dir: Path, phones: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(TARGET), str(data_dir), phones, str(JOBS)],
        stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def test_kill_during_dispatch_loses_and_repeats_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    child = _start(data_dir, "ring")
    started: list[str] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("attempt "):
                started.append(line.split()[1])
            if len(started) == 3:  # three dials in progress, their rows committed
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert len(started) == 3
    child = _start(data_dir, "answer")
    try:
        deadline = time.monotonic() + 90
        while True:
            store = Store.open(data_dir, box_id="k")
            done = store.query("SELECT count(*) AS n FROM outbound WHERE status = 'done'")
            store.close()
            if done[0]["n"] == JOBS:
                break
            assert time.monotonic() < deadline, "callbacks not all placed after the restart"
            time.sleep(0.3)
    finally:
        os.kill(child.pid, signal.SIGTERM)
        child.kill()
        child.wait()
    store = Store.open(data_dir, box_id="k")
    attempts = store.query("SELECT id, job, n, outcome FROM outbound_attempts ORDER BY id")
    by_id = {a["id"]: a for a in attempts}
    # The attempts cut by the kill were never dialled again: each was recorded failed.
    assert all(by_id[a]["outcome"] == "failed" for a in started)
    # One answered attempt per job, none twice: every callback placed exactly once.
    answered = [a["job"] for a in attempts if a["outcome"] == "answered"]
    assert sorted(answered) == sorted({a["job"] for a in attempts}) and len(answered) == JOBS
    placed = store.query("SELECT attempt FROM calls WHERE attempt IS NOT NULL")
    assert sorted(p["attempt"] for p in placed) == sorted(
        a["id"] for a in attempts if a["outcome"] == "answered")
    store.close()
