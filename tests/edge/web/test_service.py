"""start(): the [status_page] section, the password from the secrets file, and the page as
``edgecall serve`` runs it (entry points, a real process)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from edge.cli import main
from edge.clock import Clock
from edge.config import ConfigError, load_config
from edge.plugins import ServiceContext, all_sections, plugin_sections, service_starters
from edge.store import Store
from edge.web import SECTION, NotRunning, StatusServer, start

PASSWORD = "field-tech-pw"


def _config(tmp_path: Path, section: str | None, password: str | None = PASSWORD) -> Any:
    secrets = 'pseudonym_key = "' + "ab" * 32 + '"\n'
    if password is not None:
        secrets += f'status_page_password = "{password}"\n'
    (tmp_path / "secrets.toml").write_text(secrets)
    text = '[box]\nid = "box-7"\ndata_dir = "data"\nsecrets_file = "secrets.toml"\n'
    if section is not None:
        text += "[status_page]\n" + section
    (tmp_path / "edgecall.toml").write_text(text)
    return load_config(tmp_path / "edgecall.toml", all_sections())


def _context(tmp_path: Path, config: Any, store: Store) -> ServiceContext:
    return ServiceContext(config, store, Clock())


def test_the_plugin_is_found_through_its_entry_points() -> None:
    assert SECTION in plugin_sections()
    assert "status_page" in dict(service_starters())


def test_defaults_and_validation(tmp_path: Path) -> None:
    values, problems = SECTION.parse({})
    assert problems == [] and values["enabled"] is True and values["port"] == 8080
    _, problems = SECTION.parse({"bind": "lan0"})
    assert problems and "IP address" in str(problems[0])
    with pytest.raises(ConfigError):
        _config(tmp_path, 'refresh_s = 1\n')


def test_serves_when_enabled(tmp_path: Path, store: Store) -> None:
    config = _config(tmp_path, 'bind = "127.0.0.1"\nport = 0\n')
    service = start(_context(tmp_path, config, store))
    try:
        assert isinstance(service, StatusServer)
        url = f"http://127.0.0.1:{service.port}/status.json"
        assert requests.get(url, timeout=10).status_code == 401
        answer = requests.get(url, auth=("tech", PASSWORD), timeout=10)
        assert answer.status_code == 200 and answer.json()["box"] == "box-7"
    finally:
        service.stop()


def test_refuses_to_start_without_a_password(tmp_path: Path, store: Store,
                                             caplog: pytest.LogCaptureFixture) -> None:
    config = _config(tmp_path, 'bind = "127.0.0.1"\nport = 0\n', password=None)
    service = start(_context(tmp_path, config, store))
    assert isinstance(service, NotRunning)
    service.stop()
    messages = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("status_page_password" in m and "secrets" in m for m in messages), messages


@pytest.mark.parametrize("section", [None, 'enabled = false\nport = 0\n'])
def test_off_when_absent_or_disabled(tmp_path: Path, store: Store, section: str | None) -> None:
    service = start(_context(tmp_path, _config(tmp_path, section), store))
    assert isinstance(service, NotRunning)
    service.stop()


def test_a_taken_port_is_logged_not_fatal(tmp_path: Path, store: Store,
                                          caplog: pytest.LogCaptureFixture) -> None:
    first = start(_context(tmp_path, _config(tmp_path, 'bind = "127.0.0.1"\nport = 0\n'),
                           store))
    try:
        assert isinstance(first, StatusServer)
        config = _config(tmp_path, f'bind = "127.0.0.1"\nport = {first.port}\n')
        second = start(_context(tmp_path, config, store))
        assert isinstance(second, NotRunning)
        assert any("cannot listen" in r.getMessage() for r in caplog.records)
    finally:
        first.stop()


def test_edgecall_serve_runs_the_page(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path)]) == 0
    secrets_file = tmp_path / "secrets.toml"  # init wrote a random password: use ours
    secrets_file.write_text(re.sub(r'status_page_password = ".*"',
                                   f'status_page_password = "{PASSWORD}"',
                                   secrets_file.read_text()))
    calls = [{"at_s": 0, "number": "+255712345678", "key_delay_s": 0.2,
              "responses": {"language.prompt": ["1"], "consent.prompt": ["1"],
                            "household.prompt": ["2#"], "children.prompt": ["1#"],
                            "need.prompt": ["1"], "callback.prompt": ["2"]}}]
    (tmp_path / "calls.json").write_text(json.dumps(calls))
    config = tmp_path / "edgecall.toml"
    config.write_text(config.read_text() + '\n[simulated]\nenabled = true\n'
                      'calls_file = "calls.json"\nspeed = 20.0\n'
                      '\n[status_page]\nbind = "127.0.0.1"\nport = 0\n')
    child = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "serve", "--config", str(config)],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert child.stderr is not None
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = child.stderr.readline()
            if not line:
                break
            match = re.search(r"status page on http://127\.0\.0\.1:(\d+)/", line)
            port = int(match.group(1)) if match else None
        assert port, "serve never said where the status page is"
        # The scripted call completes while the page is polled like a browser would.
        while time.monotonic() < deadline:
            answer = requests.get(f"http://127.0.0.1:{port}/status.json",
                                  auth=("", PASSWORD), timeout=10)
            assert answer.status_code == 200
            data = answer.json()
            if data["today"]["dispositions"].get("complete"):
                break
            time.sleep(0.2)
        assert data["today"] == {"calls": 1, "in_progress": 0, "completion": 1.0,
                                 "dispositions": {"complete": 1}}
        assert [line["kind"] for line in data["lines"]] == ["simulated"]
        assert data["backlog"] > 0
        assert "712345678" not in answer.text
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
    finally:
        child.kill()
        child.wait()
