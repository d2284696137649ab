"""kill -9 in the middle of spoken messages: no row ever names a missing or half file, every
recorded answer whose commit returned is there with its file, and the sweep at the next start
removes what a crash left half done (and nothing else)."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge.lines import recording_problem
from edge.store import Store

TARGET = Path(__file__).with_name("record_kill_target.py")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_mid_recording_leaves_no_row_without_its_whole_file(tmp_path: Path,
                                                                    seed: int) -> None:
    rng = random.Random(seed)
    kill_after = rng.randint(3, 12)
    data_dir = tmp_path / "data"
    child = subprocess.Popen(
        [sys.executable, str(TARGET), str(data_dir)],
        stdout=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    committed: dict[str, str] = {}
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        while True:
            line = child.stdout.readline()
            assert line, "the child stopped before it was killed"
            word, *rest = line.split()
            if word == "committed":
                committed[rest[0]] = rest[1]
            elif len(committed) >= kill_after:  # a recording has just begun: kill it there
                time.sleep(rng.uniform(0, 0.03))
                break
        child.send_signal(signal.SIGKILL)
        for line in child.stdout.read().splitlines():
            word, *rest = line.split()
            if word == "committed":
                committed[rest[0]] = rest[1]
    finally:
        child.kill()
        child.wait(10)
    assert child.returncode == -signal.SIGKILL

    db = sqlite3.connect(data_dir / "edgecall.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = db.execute("SELECT reference, answer_id, bytes, sha256 FROM audio").fetchall()
    answers = dict(db.execute("SELECT id, value FROM answers WHERE question = 'message'"))
    outboxed = {r[0] for r in db.execute("SELECT record_id FROM outbox WHERE kind = 'audio'")}
    db.close()
    root = data_dir / "recordings"
    # Every row names a whole file: present, complete, the bytes it says.
    for reference, answer_id, size, digest in rows:
        path = root / reference
        assert recording_problem(path) is None, (reference, recording_problem(path))
        data = path.read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (size, digest)
        assert answers[answer_id] == reference and reference in outboxed
    # Every answer whose commit returned is there, with its file.
    named = {r[0] for r in rows}
    assert all(answers.get(a) == ref and ref in named for a, ref in committed.items())
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    leftovers = on_disk - named
    assert leftovers, "the kill came mid-message: something half done should be there"

    store = Store.open(data_dir, box_id="kill")
    removed = store.recordings.sweep()
    assert {str(p.relative_to(root)) for p in removed} == leftovers
    after = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert after == named and store.recordings.missing() == []
    assert not list(root.rglob("*.part"))
    store.close()
