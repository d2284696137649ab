"""Real SIP peers for the tests: baresip (a softphone, driven through its ctrl_tcp module) and
kamailio (registrar and record-routing proxy), both on 127.0.0.1, headless, each in its own
directory. Debian packages ``baresip`` and ``kamailio``: tests that need them FAIL when missing.
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
HOST = "127.0.0.1"


def tool(name: str, package: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        pytest.fail(f"{name} is required for the real-peer SIP tests: apt-get install {package}")
    return path


class Baresip:
    """One headless baresip: config from tests/hardware/sip/baresip/config with the ports
    filled in, caller audio from ausine, commands and events over ctrl_tcp (netstrings of
    JSON)."""

    def __init__(self, workdir: Path, sip_port: int, ctrl_port: int, rtp_low: int) -> None:
        self.workdir = workdir
        self.cfg = workdir / "baresip"
        self.cfg.mkdir(parents=True, exist_ok=True)
        template = (HERE / "baresip" / "config").read_text()
        self.cfg.joinpath("config").write_text(
            template.replace("@SIP_PORT@", str(sip_port)).replace("@CTRL_PORT@", str(ctrl_port))
            .replace("@RTP_LOW@", str(rtp_low)).replace("@RTP_HIGH@", str(rtp_low + 9)))
        self.cfg.joinpath("accounts").write_text(
            (HERE / "baresip" / "accounts").read_text())
        self.log = workdir / "baresip.log"
        self._log_file = open(self.log, "wb")  # noqa: SIM115  (closed in close())
        self.proc = subprocess.Popen(
            [tool("baresip", "baresip"), "-f", str(self.cfg)], cwd=workdir,
            stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=subprocess.STDOUT,
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.responses: queue.Queue[dict[str, Any]] = queue.Queue()
        self.sock = self._connect(ctrl_port)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _connect(self, port: int) -> socket.socket:
        deadline = time.monotonic() + 10
        while True:
            try:
                return socket.create_connection((HOST, port), timeout=1)
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("baresip did not start:\n" + self.output()) from None
                time.sleep(0.1)

    def _read(self) -> None:
        buffer = b""
        self.sock.settimeout(None)
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b":" in buffer:
                length_text, _, rest = buffer.partition(b":")
                length = int(length_text)
                if len(rest) < length + 1:
                    break
                message = json.loads(rest[:length])
                buffer = rest[length + 1:]
                (self.events if message.get("event") else self.responses).put(message)

    def command(self, command: str, params: str = "") -> dict[str, Any]:
        data = json.dumps({"command": command, "params": params, "token": command}).encode()
        self.sock.sendall(b"%d:%s," % (len(data), data))
        return self.responses.get(timeout=5)

    def wait_event(self, kind: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            seen.append(event.get("type"))
            if event.get("type") == kind:
                return event
        raise AssertionError(f"baresip: no {kind} within {timeout} s (saw {seen})\n"
                             + self.output())

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log_file.close()


class Kamailio:
    """kamailio as registrar and record-routing proxy on 127.0.0.1:``port``, run from the
    config in tests/hardware/sip/kamailio/ with its own runtime dir and pid file (no root
    needed, nothing under /run), in the foreground, logging to ``log``."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.port = port
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / "kamailio.log"
        self._log_file = open(self.log, "wb")  # noqa: SIM115  (closed in close())
        self.proc = subprocess.Popen(
            [tool("kamailio", "kamailio"), "-f", str(HERE / "kamailio" / "kamailio.cfg"),
             "-L", _kamailio_modules(), "-l", f"udp:{HOST}:{port}",
             "-Y", str(workdir), "-P", str(workdir / "kamailio.pid"), "-w", str(workdir),
             "-DD", "-E", "-m", "32", "-M", "8", "-n", "1"],
            cwd=workdir, stdin=subprocess.DEVNULL, stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Ready when it answers an OPTIONS (its config answers them itself)."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((HOST, 0))
            s.settimeout(0.2)
            port = s.getsockname()[1]
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                s.sendto((f"OPTIONS sip:{HOST}:{self.port} SIP/2.0\r\n"
                          f"Via: SIP/2.0/UDP {HOST}:{port};branch=z9hG4bKready{time.time_ns()}\r\n"
                          f"From: <sip:probe@{HOST}>;tag=p\r\nTo: <sip:{HOST}>\r\n"
                          f"Call-ID: ready@{HOST}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                          "Content-Length: 0\r\n\r\n").encode(), (HOST, self.port))
                with contextlib.suppress(TimeoutError):
                    if s.recv(65535).startswith(b"SIP/2.0 200"):
                        return
        raise AssertionError("kamailio did not start:\n" + self.output())

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_log(self, pattern: str, timeout: float) -> str:
        """The first log line matching ``pattern`` (a regular expression)."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.output().splitlines():
                if re.search(pattern, line):
                    return line
            if time.monotonic() > deadline:
                raise AssertionError(f"kamailio: no {pattern!r} in its log:\n"
                                     + self.output()[-3000:])
            time.sleep(0.1)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log_file.close()


def _kamailio_modules() -> str:
    for path in ("/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/aarch64-linux-gnu/"
                 "kamailio/modules", "/usr/lib/kamailio/modules"):
        if Path(path, "tm.so").exists():
            return path
    found = sorted(Path("/usr/lib").glob("*/kamailio/modules/tm.so"))
    if not found:
        pytest.fail("kamailio modules not found: apt-get install kamailio")
    return str(found[0].parent)
