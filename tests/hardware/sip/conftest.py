"""Fixtures for the SIP line tests: SIPp as the real peer, on 127.0.0.1, unique ports per test.

SIPp (Debian package ``sip-tester``) is required: tests that need it FAIL when it is missing.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import queue
import random
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from edge.lines import CallGone, KeyPressed, LineContext, PlaybackFinished, RemoteHangup

SCENARIOS = Path(__file__).parent / "scenarios"
HOST = "127.0.0.1"
_used: set[int] = set()
_lock = threading.Lock()


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive free UDP ports, never handed out twice per run."""
    with _lock:
        for _ in range(500):
            base = random.randrange(20000, 60000 - count)
            span = range(base, base + count)
            if any(p in _used for p in span) or not all(_bindable(p) for p in span):
                continue
            _used.update(span)
            return base
    raise RuntimeError("no free UDP port range")


def sipp_path() -> str:
    path = shutil.which("sipp")
    if path is None:
        pytest.fail("SIPp is required for the SIP tests: apt-get install sip-tester")
    return path


class Sipp:
    """One SIPp process; killed in teardown."""

    current: Sipp | None = None  # the running test's, for the line harness's failure messages

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[subprocess.Popen[bytes]] = []
        self.port = 0
        self.media_port = 0

    def start(
        self, scenario: str, target_port: int | None, *, calls: int = 1, rate: float = 10,
        limit: int | None = None, timeout_s: int = 40, extra: tuple[str, ...] = (),
        sets: dict[str, Any] | None = None, port: int | None = None,
    ) -> subprocess.Popen[bytes]:
        self.port = port or free_ports(1)
        self.media_port = free_ports(4)  # SIPp also uses -mp + 2 (video) and + 3
        cmd = [sipp_path()]
        if target_port is not None:
            cmd.append(f"{HOST}:{target_port}")
        cmd += [
            "-sf", str(SCENARIOS / scenario), "-i", HOST, "-p", str(self.port),
            "-mp", str(self.media_port), "-m", str(calls), "-r", str(rate),
            "-l", str(limit or calls), "-nostdin", "-timeout", f"{timeout_s}s",
            "-timeout_error", "-trace_err", "-trace_screen", "-max_recv_loops", "100",
        ]
        for name, value in (sets or {}).items():
            cmd += ["-set", name, str(value)]
        cmd += list(extra)
        proc = subprocess.Popen(
            cmd, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.procs.append(proc)
        return proc

    def wait(self, proc: subprocess.Popen[bytes] | None = None, timeout: float = 45) -> int:
        proc = proc or self.procs[-1]
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
            return -999

    def errors(self) -> str:
        """SIPp's error logs and screens, for assertion messages."""
        text = []
        for path in sorted(self.workdir.glob("*_errors.log")) + sorted(
            self.workdir.glob("*_screen.log")
        ):
            text.append(f"--- {path.name}\n" + path.read_text(errors="replace")[-3000:])
        for proc in self.procs:
            if proc.stderr and proc.poll() is not None:
                text.append(proc.stderr.read().decode(errors="replace")[-1000:])
        return "\n".join(text)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(5)
            if proc.stderr:
                proc.stderr.close()


@pytest.fixture
def sipp(tmp_path: Path) -> Iterator[Sipp]:
    sipp_path()
    workdir = tmp_path / "sipp"
    workdir.mkdir()
    runner = Sipp(workdir)
    Sipp.current = runner
    yield runner
    Sipp.current = None
    runner.close()


class LineHarness:
    """A started SipLine on unique ports; calls it offers land in ``calls``."""

    def __init__(self, tmp_path: Path, data_dir: Path | None = None,
                 extras: dict[str, Any] | None = None, **overrides: Any) -> None:
        from hardware.sip import SECTION, SipLine

        rtp = free_ports(60)
        settings, problems = SECTION.parse(
            {"bind_address": HOST, "port": free_ports(1), "rtp_port_low": rtp,
             "rtp_port_high": rtp + 59, **overrides}
        )
        assert not problems, problems
        self.line = SipLine(
            settings, LineContext(data_dir=data_dir or tmp_path / "data", extras=extras or {})
        )
        self.calls: queue.Queue[Any] = queue.Queue()
        # What the line said, for the message when an expected call never comes (a rare CI
        # failure left nothing else to read).
        self.log: collections.deque[str] = collections.deque(maxlen=40)
        self._handler = _Remember(self.log)
        hardware_log = logging.getLogger("hardware")
        self._level = hardware_log.level
        hardware_log.setLevel(min(hardware_log.getEffectiveLevel(), logging.INFO))
        hardware_log.addHandler(self._handler)
        self.line.start(self.calls.put)

    @property
    def port(self) -> int:
        return self.line.port

    def next_call(self, timeout: float = 15) -> Any:
        try:
            return self.calls.get(timeout=timeout)
        except queue.Empty:
            peer = Sipp.current
            raise AssertionError(
                f"no call offered in {timeout:g} s; line {self.line.status()}\n"
                "line log:\n" + "\n".join(self.log)
                + ("\nSIPp:\n" + peer.errors() if peer else "")
            ) from None

    def stop(self) -> None:
        hardware_log = logging.getLogger("hardware")
        hardware_log.removeHandler(self._handler)
        hardware_log.setLevel(self._level)
        self.line.shutdown()


class _Remember(logging.Handler):
    def __init__(self, into: collections.deque[str]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(f"{record.levelname} {record.name}: {record.getMessage()}")


@pytest.fixture(scope="session")
def shared_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir for lines that only need the prompt cache: prompts render once a run."""
    return tmp_path_factory.mktemp("sip-shared")


@pytest.fixture
def make_line(tmp_path: Path) -> Iterator[Callable[..., LineHarness]]:
    made: list[LineHarness] = []

    def make(**overrides: Any) -> LineHarness:
        harness = LineHarness(tmp_path, **overrides)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.stop()


def drive(call: Any, *, keys_wanted: int | None = None, prompts: list[Any] | None = None,
          hang_up: bool = True, answer_delay: float = 0.0, limit_s: float = 20) -> dict[str, Any]:
    """Answer, play the prompts, collect events until enough keys or a remote hang-up."""
    result: dict[str, Any] = {"keys": "", "events": [], "remote_hangup": None, "gone": False}
    time.sleep(answer_delay)
    try:
        call.answer()
    except CallGone:
        result["gone"] = True
        return result
    if prompts:
        call.play(1, prompts)
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        event = call.next_event(0.5)
        if event is None:
            continue
        result["events"].append(event)
        if isinstance(event, KeyPressed):
            result["keys"] += event.digit
            if keys_wanted is not None and len(result["keys"]) >= keys_wanted:
                break
        elif isinstance(event, RemoteHangup):
            result["remote_hangup"] = event
            break
        elif isinstance(event, PlaybackFinished):
            pass
    if hang_up:
        call.hang_up()
    return result


def drive_in_thread(call: Any, **kwargs: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        out.update(drive(call, **kwargs))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


@pytest.fixture
def tools() -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(
        drive=drive, drive_in_thread=drive_in_thread, free_ports=free_ports, HOST=HOST,
        SCENARIOS=SCENARIOS,
    )
