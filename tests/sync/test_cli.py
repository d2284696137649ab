"""``edgecall sync --once`` / status / hq export through the real CLI and config files."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from edge.cli import main
from edge.config import load_config
from edge.plugins import all_sections
from edge.store import Store
from sync.status import status_lines
from tests.support import FaultProxy, random_plan

from .conftest import SECRET
from .helpers import assert_exactly_once

ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, hq_url: str, extra: str = "") -> Path:
    config = tmp_path / "edgecall.toml"
    config.write_text(
        f'[box]\nid = "box-1"\ndata_dir = "box"\nsecrets_file = "secrets.toml"\n'
        f'[hq]\nurl = "{hq_url}/v1/batches"\nallow_http = true\nread_timeout_s = 2\n'
        f"batch_max_bytes = 1024\n{extra}")
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'pseudonym_key = "{"ab" * 32}"\nhq_secret = "{SECRET.decode()}"\n')
    secrets.chmod(0o600)
    return config


def test_sync_once_then_status_and_export(filled, hq, tmp_path, capsys):
    store, _ = filled
    config = write_config(tmp_path, hq.url)
    assert load_config(config, all_sections()).section("hq") is not None
    assert main(["sync", "--once", "--no-pull", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "hq: 480 records" in out and "backlog 0" in out
    assert_exactly_once(store, hq.storage)
    lines = dict(status_lines(store))
    assert lines["sync hq backlog"] == "0 records"
    assert lines["sync hq last success"] != "never"
    csv_path = tmp_path / "calls.csv"
    assert main(["hq", "export", "--db", hq.storage.url, "--format", "csv", "--table",
                 "records", "--kind", "call", "-o", str(csv_path)]) == 0
    rows = csv_path.read_text().splitlines()
    assert len(rows) == 41 and "disposition" in rows[0]
    assert "+255" not in csv_path.read_text()  # numbers left the box as pseudonyms only


def test_status_before_any_sync(store):
    assert status_lines(store) == [("sync", "never run")]


def test_offline_sync_reports_failure_and_status_shows_it(filled, tmp_path, capsys):
    store, _ = filled
    config = write_config(tmp_path, "http://127.0.0.1:9")  # nothing listens there
    assert main(["sync", "--once", "--no-pull", "--max-wait", "0", "-c", str(config)]) == 1
    assert "stopped: cannot connect to HQ 127.0.0.1:9: connection refused" in \
        capsys.readouterr().out
    lines = dict(status_lines(store))
    assert "cannot connect to HQ 127.0.0.1:9" in lines["sync hq last failure"]
    assert lines["sync hq backlog"] == "480 records"


def _sync_process(config: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", "import sys; from edge.cli import main; sys.exit(main())",
         "sync", "--once", "--no-pull", "--max-wait", "30", "-c", str(config)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_sigkill_at_random_points_then_restart_is_exactly_once(filled, hq, tmp_path):
    store, _ = filled
    # Slow responses and resets after commit widen the windows a kill can hit: between HQ's
    # commit and the box's acknowledgement, mid-seal, mid-send.
    proxy = FaultProxy(hq.address,
                       random_plan(11, {"pass": 3, "trickle": 3, "reset-after-commit": 1}),
                       trickle_s=0.02)
    config = write_config(tmp_path, proxy.url)
    rng = random.Random(5)
    kills = 0
    total = len(store.reads.outbox_after(0, 10**6))
    at_kill: list[int] = []
    try:
        for round_no in range(5):
            process = _sync_process(config)
            if round_no % 2:
                # Kill once this run has moved HQ on (a start-up slowed by a loaded machine
                # would otherwise take every kill before the first send).
                before = hq.storage.count()
                deadline = time.monotonic() + 30
                while hq.storage.count() == before and process.poll() is None and \
                        time.monotonic() < deadline:
                    time.sleep(0.02)
                time.sleep(rng.uniform(0.0, 0.3))
            else:
                time.sleep(rng.uniform(0.4, 2.0))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
                at_kill.append(hq.storage.count())
            process.wait(timeout=30)
        final = _sync_process(config)
        _out, err = final.communicate(timeout=120)
        assert final.returncode == 0, err.decode()
    finally:
        proxy.close()
    assert kills >= 3
    reopened = Store.open(store.path.parent, box_id="box-1")
    try:
        assert_exactly_once(reopened, hq.storage)
        assert reopened.reads.backlog() == 0
    finally:
        reopened.close()
    assert any(0 < n < total for n in at_kill), at_kill  # kills landed mid-drain


def test_hq_serve_command_receives_then_stops_on_sigterm(filled, tmp_path):
    store, _ = filled
    boxes = tmp_path / "boxes.toml"
    boxes.write_text(f'[boxes]\nbox-1 = "{SECRET.decode()}"\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-c", "import sys; from edge.cli import main; sys.exit(main())",
         "hq", "serve", "--port", "0", "--workers", "2", "--boxes", str(boxes), "--db",
         str(tmp_path / "h.db")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert "HQ listening on http://127.0.0.1:" in line, server.stderr.read()
        url = line.split()[3].removesuffix("/v1/batches")
        config = write_config(tmp_path, url)
        assert main(["sync", "--once", "--no-pull", "-c", str(config)]) == 0
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 0
    out = tmp_path / "all.json"
    assert main(["hq", "export", "--db", str(tmp_path / "h.db"), "--format", "json",
                 "--table", "records", "--all-versions", "-o", str(out)]) == 0
    import json

    assert len(json.loads(out.read_text())) == len(store.reads.outbox_after(0, 10**6))


def test_sync_once_exits_3_while_a_batch_parked_earlier_holds_a_backlog(filled, hq, tmp_path,
                                                                        capsys):
    from .helpers import ledger_for

    store, _ = filled
    ledger = ledger_for(store, max_bytes=1024)
    batch = ledger.seal_next()
    ledger.park(batch, "park: HTTP 413: too large")  # parked by serve's last run
    config = write_config(tmp_path, hq.url)
    assert main(["sync", "--once", "--no-pull", "-c", str(config)]) == 3
    out = capsys.readouterr().out
    assert "1 batch parked" in out and "backlog 0" not in out
    assert main(["sync", "--once", "--no-pull", "--retry-parked", "-c", str(config)]) == 0
    assert_exactly_once(store, hq.storage)


def test_sync_once_says_why_it_waits_while_retrying(filled, tmp_path, capsys):
    config = write_config(tmp_path, "http://127.0.0.1:9")
    assert main(["sync", "--once", "--no-pull", "--max-wait", "3", "-c", str(config)]) == 1
    err = capsys.readouterr().err
    assert "hq: cannot connect to HQ 127.0.0.1:9: connection refused" in err
    assert "retrying batch" in err and " s" in err


def test_recordings_through_hq_serve_then_the_audio_export(tmp_path, capsys, opusenc):
    """The whole path with gunicorn: 'edgecall sync --once' sends the records, then the
    recordings in 1 KiB chunks; 'edgecall hq export --table audio' copies the files."""
    import csv

    from tests.support import open_store
    from tests.support._recorded import add_recordings

    store, _sim = open_store(tmp_path / "box", fast=True)
    references = add_recordings(store, 2, seconds=4.0)
    boxes = tmp_path / "boxes.toml"
    boxes.write_text(f'[boxes]\nbox-1 = "{SECRET.decode()}"\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    audio_dir = tmp_path / "hq-audio"
    server = subprocess.Popen(
        [sys.executable, "-c", "import sys; from edge.cli import main; sys.exit(main())",
         "hq", "serve", "--port", "0", "--workers", "2", "--boxes", str(boxes), "--db",
         str(tmp_path / "h.db"), "--audio-dir", str(audio_dir)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert "HQ listening on http://127.0.0.1:" in line, server.stderr.read()
        url = line.split()[3].removesuffix("/v1/batches")
        config = write_config(tmp_path, url)
        assert main(["sync", "--once", "--no-pull", "-c", str(config)]) == 0
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 0
    out = capsys.readouterr().out
    assert "hq: 2 recordings at HQ" in out, out
    assert dict(status_lines(store))["sync hq audio"] == "2 at hq, 0 waiting"
    exported = tmp_path / "export"
    exported.mkdir()
    assert main(["hq", "export", "--db", str(tmp_path / "h.db"), "--table", "audio",
                 "--audio-dir", str(audio_dir), "--link-base", "https://hq.example.org",
                 "-o", str(exported)]) == 0
    rows = list(csv.DictReader((exported / "audio.csv").open()))
    assert sorted(r["reference"] for r in rows) == sorted(references)
    for row in rows:
        copy = store.recordings.path_of(row["reference"]).with_suffix(".opus").read_bytes()
        assert (exported / row["file"]).read_bytes() == copy
        assert row["link"] == f"https://hq.example.org/audio/{row['file']}"
    store.close()
