"""``edgecall init`` leads to a box that runs: --simulated answers its sample calls under
``edgecall serve`` as written, and plain init says what to edit next."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge.cli import main
from edge.cli._sample_calls import SAMPLE_CALLS, SAMPLE_DISPOSITIONS
from edge.clock import Clock
from edge.config import load_config
from edge.plugins import all_sections
from edge.server import build_lines


def _ended_calls(db: Path) -> list[str]:
    try:
        conn = sqlite3.connect(db)
        try:
            rows = conn.execute("SELECT disposition FROM calls WHERE disposition IS NOT NULL "
                                "ORDER BY started_utc").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:  # not created yet, or mid-migration
        return []
    return [row[0] for row in rows]


def test_init_simulated_then_serve_answers_the_sample_calls(tmp_path: Path) -> None:
    box = tmp_path / "box"
    assert main(["init", "--simulated", str(box)]) == 0
    assert json.loads((box / "calls.json").read_text()) == SAMPLE_CALLS
    elsewhere = tmp_path / "elsewhere"  # relative paths must resolve from the config's folder
    elsewhere.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "serve", "--config", str(box / "edgecall.toml")],
        stderr=subprocess.PIPE, text=True, cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    db = box / "data" / "edgecall.db"
    try:
        deadline = time.monotonic() + 120  # the sample takes about 25 s at real-time speed
        while len(_ended_calls(db)) < len(SAMPLE_CALLS) and time.monotonic() < deadline:
            if child.poll() is not None:
                break
            time.sleep(0.25)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 0, err
    assert tuple(_ended_calls(db)) == SAMPLE_DISPOSITIONS, err
    assert "ended: complete" in err and "stopped" in err
    assert "+2557" not in err  # numbers stay out of the log


def test_plain_init_says_what_to_edit_next(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    config, secrets = tmp_path / "edgecall.toml", tmp_path / "secrets.toml"
    for section in ("[sip]", "[modem]", "[simulated]", "[hq]"):
        assert section in out
    assert "gateway_address" in out and "sip_password" in out  # the SIP gateway's keys
    assert "port" in out and "profile" in out  # the modem's
    assert "edgecall init --simulated" in out
    assert f"are in {secrets}" in out
    assert "docs/configuration.md" in out
    assert f"edgecall doctor --config {config}" in out
    assert out.rstrip().endswith(f"edgecall serve --config {config}")
    assert "Ctrl-C" in out


def test_init_simulated_says_the_next_command(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--simulated", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'calls.json'}" in out
    assert f"{len(SAMPLE_CALLS)} scripted callers" in out
    assert f"edgecall serve --config {tmp_path / 'edgecall.toml'}" in out


def test_uncommenting_the_simulated_section_turns_it_on(tmp_path: Path) -> None:
    """The first-hour trap: the section's switch must read true once its '# ' are gone."""
    assert main(["init", str(tmp_path)]) == 0
    config_path = tmp_path / "edgecall.toml"
    lines = config_path.read_text().splitlines()
    start = lines.index("# [simulated]")
    end = lines.index("", start)
    # As the file says: the '# ' in front of the header and the keys, not the key's docs.
    lines[start:end] = [line[2:] if re.match(r"# (\[|\w+ = )", line) else line
                        for line in lines[start:end]]
    config_path.write_text("\n".join(lines) + "\n")
    config = load_config(config_path, all_sections())
    assert config.sections["simulated"]["enabled"] is True
    built = build_lines(config, Clock())
    try:
        assert [line.name for line in built] == ["sim"]
    finally:
        for line in built:
            line.close()  # type: ignore[attr-defined]


def test_init_simulated_refuses_to_overwrite_a_calls_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "calls.json").write_text("[]")
    assert main(["init", "--simulated", str(tmp_path)]) == 2
    assert "calls.json exists; use --force" in capsys.readouterr().err
    assert not (tmp_path / "edgecall.toml").exists()
