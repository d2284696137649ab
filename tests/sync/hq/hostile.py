"""Tools for hostile-box tests: ``edgecall hq serve`` (gunicorn) as a subprocess on
127.0.0.1, raw HTTP over sockets (what ``requests`` would refuse to send), signed requests,
and hand-made batches (what no honest box encodes)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sync._signing import (
    HEADER_AUTH,
    HEADER_BATCH,
    HEADER_BOX,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    request_auth,
    sign,
)
from sync.codec import compress

ROOT = Path(__file__).resolve().parents[3]
SECRETS = {"box-1": "box-1-secret-for-tests", "box-2": "box-2-secret-for-tests"}
STAMP = "2026-01-01T00:00:00.000Z"


class ServeProcess:
    """``edgecall hq serve -c hq.toml --port 0``; ``url``, ``pids()``, ``stop()``."""

    def __init__(self, config: Path, *extra: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from edge.cli import main; sys.exit(main())",
             "hq", "serve", "-c", str(config), "--port", "0", *extra],
            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline() if self.process.stdout else ""
        if "listening on" not in line:
            self.process.kill()
            raise RuntimeError(f"hq serve did not start: {line}{self.process.stderr.read()}")
        # The log (one line per batch) is read as it comes: a full pipe would block the
        # server's threads on their next log line.
        self.log: list[str] = []
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        self.url = line.split()[3].removesuffix("/v1/batches")
        self.port = int(self.url.rsplit(":", 1)[1])

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)

    def pids(self) -> list[int]:
        """The master and its workers."""
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)],
                             capture_output=True, text=True).stdout
        return [self.process.pid, *(int(p) for p in out.split())]

    def threads(self) -> int:
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                total += len(os.listdir(f"/proc/{pid}/task"))
        return total

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += int(next(line.split()[1] for line in status.splitlines()
                              if line.startswith("VmRSS:")))
        return total / 1024

    def stop(self) -> str:
        """Stops the server; returns its log."""
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(10)
        return "".join(self.log)


def raw(port: int, head: bytes, body: bytes = b"", timeout_s: float = 10.0,
        shutdown: bool = False) -> tuple[int, dict[str, str], bytes, float]:
    """Send bytes as they are; (status, headers, body, seconds to the answer). Status 0: the
    connection closed without an answer."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(head + body)
        if shutdown:
            sock.shutdown(socket.SHUT_WR)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            head_part, _, rest = data.partition(b"\r\n\r\n")
            headers = {}
            for line in head_part.split(b"\r\n")[1:]:
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            while len(rest) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                rest += chunk
        except (ConnectionResetError, TimeoutError):
            return 0, {}, b"", time.monotonic() - started
    took = time.monotonic() - started
    if not data.startswith(b"HTTP/"):
        return 0, {}, b"", took
    return int(data.split()[1]), headers, rest, took


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def signed_headers(box: str, batch_id: str, body: bytes, stamp: int | None = None,
                   secret: str | None = None, offset: int = 0,
                   length: int | None = None) -> dict[str, str]:
    stamp = int(time.time() * 1000) if stamp is None else stamp
    key = (secret or SECRETS[box]).encode()
    length = len(body) - offset if length is None else length
    return {HEADER_BOX: box, HEADER_BATCH: batch_id, HEADER_TIMESTAMP: str(stamp),
            HEADER_SIGNATURE: sign(key, stamp, body),
            HEADER_AUTH: request_auth(key, stamp, box, batch_id, offset, length),
            "Content-Length": str(length), "Content-Type": "application/vnd.edgecall.batch"}


def batch_bytes(box: str, batch_id: str, groups: Sequence[dict[str, Any]], n: int,
                binary: bytes = b"", header_text: bytes | None = None,
                compression: str = "xz") -> bytes:
    """A batch as the wire format describes it, made by hand (sync/PROTOCOL.md)."""
    doc = {"v": 2, "box": box, "batch": batch_id, "first": 1, "last": n, "n": n,
           "g": list(groups)}
    text = header_text if header_text is not None else json.dumps(doc).encode()
    return compress(len(text).to_bytes(4, "big") + text + binary, compression)


def call_group(ids: Sequence[str], extra: Sequence[list[Any]] = ()) -> dict[str, Any]:
    """A group of call records with these ids (one body key per extra column)."""
    n = len(ids)
    return {"k": "call", "n": n, "c": [
        ["@seq", ["j", list(range(1, n + 1))]], ["@id", ["j", list(ids)]], ["@v", ["c", 1]],
        ["@t", ["c", STAMP]], *extra]}
