"""The far side of a queued request, on 127.0.0.1: a real HTTP server that keeps every
request it gets (method, path, headers, body) and answers as a test tells it: a status and
a body, or no answer at all until released (a slow or hung service)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FarSide

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.keep(Seen(self.command, self.path, dict(self.headers.items()), body))
        if self.server.hang.is_set():
            self.server.released.wait(60)  # never answers while the test holds it
            return
        status, text = self.server.answer
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any


class FarSide(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, status: int = 200, text: str = "ok") -> None:
        self.answer = (status, text)
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.arrived = threading.Event()  # set by the first request
        self.hang = threading.Event()  # set: requests get no answer
        self.released = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, name="far-side", daemon=True).start()

    def keep(self, seen: Seen) -> None:
        with self.lock:
            self.seen.append(seen)
        self.arrived.set()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def paths(self) -> list[str]:
        with self.lock:
            return [s.path for s in self.seen]

    def close(self) -> None:
        self.released.set()
        self.shutdown()
        self.server_close()
