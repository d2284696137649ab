"""``edgecall serve`` as a process: calls from a scripted simulated line, SIGTERM mid-call."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from edge.cli import main

NUMBER = "+255712345678"


def test_sigterm_lets_the_call_finish_and_logs_no_number(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path)]) == 0
    calls = [{"at_s": 0, "number": NUMBER, "key_delay_s": 0.5,
              "responses": {"language.prompt": ["1"], "consent.prompt": ["1"],
                            "household.prompt": ["2#"], "children.prompt": ["1#"],
                            "need.prompt": ["1"], "callback.prompt": ["2"]}}]
    (tmp_path / "calls.json").write_text(json.dumps(calls))
    config = tmp_path / "edgecall.toml"
    text = config.read_text()
    text = text.replace('log_level = "info"', 'log_level = "debug"')
    text += '\n[simulated]\nenabled = true\ncalls_file = "calls.json"\nspeed = 5.0\n'
    config.write_text(text)
    child = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "serve", "--config", str(config)],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        db = tmp_path / "data" / "edgecall.db"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait until the call is under way
            if db.exists() and _count(db, "SELECT count(*) FROM answers") >= 2:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the call never got going")
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 0, err
    assert "stopped" in err
    assert NUMBER not in err and NUMBER[4:] not in err
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT disposition FROM calls").fetchall() == [("complete",)]
    conn.close()


def _count(db: Path, sql: str) -> int:
    try:
        conn = sqlite3.connect(db)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_under_systemd_it_signals_ready_pings_the_watchdog_and_stopping(tmp_path: Path) -> None:
    import socket

    assert main(["init", str(tmp_path)]) == 0
    (tmp_path / "calls.json").write_text("[]")
    config = tmp_path / "edgecall.toml"
    config.write_text(config.read_text() + '\n[simulated]\nenabled = true\n'
                      'calls_file = "calls.json"\n')
    notify = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify))
    sock.settimeout(20)
    child = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "serve", "--config", str(config)],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path),
             "NOTIFY_SOCKET": str(notify), "WATCHDOG_USEC": "400000"},
    )
    try:
        messages = [sock.recv(4096).decode()]
        while sum(m == "WATCHDOG=1" for m in messages) < 3:
            messages.append(sock.recv(4096).decode())
        assert messages[0].startswith("READY=1\nSTATUS=survey demo-needs")
        child.send_signal(signal.SIGTERM)
        while messages[-1] != "STOPPING=1":
            messages.append(sock.recv(4096).decode())
        child.communicate(timeout=30)
    finally:
        child.kill()
        sock.close()
    assert child.returncode == 0
