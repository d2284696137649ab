"""A fault-injecting HTTP proxy for tests: each request meets the next fault of a plan.

Faults (names):
- ``pass``: forwarded, response relayed;
- ``500`` / ``502``: refused with that status, not forwarded;
- ``429`` / ``503``: refused with ``Retry-After`` (``retry_after`` seconds), not forwarded;
- ``drop-request``: connection closed before forwarding (nothing committed);
- ``reset-after-commit``: forwarded (the receiver commits), then the connection is reset
  instead of relaying the response: the classic cause of duplicates;
- ``timeout-after-commit``: forwarded, then silence until the client gives up;
- ``garbage``: forwarded, then bytes that are not HTTP;
- ``portal``: forwarded, then a 200 HTML page (a captive portal's answer);
- ``trickle``: forwarded, response relayed a few bytes at a time, slowly;
- ``cut-upload``: the first half of the body reaches the receiver, then both connections
  break (a link dropping mid-upload; a receiver that resumes keeps that half);
- ``409``: a middlebox's 409, not forwarded (nothing committed);
- ``302``: a captive portal's redirect, not forwarded; ``Location`` is the proxy's own
  ``/portal``, a 200 HTML login page (what a client following redirects would get);
- ``html-200``: a captive portal's 200 HTML login page, not forwarded;
- ``json-201``: a middlebox's ``201`` with some JSON (not the receiver's), not forwarded.

Replies of the receiver itself (``RECEIVER_FAULTS``, not middlebox faults):
- ``hq-409``: forwarded; when HQ acknowledges, its answer is replaced by HQ's signed 409
  "already committed" reply (sync/PROTOCOL.md), signed with the proxy's ``secret``.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("pass", "500", "502", "503", "429", "drop-request", "reset-after-commit",
          "timeout-after-commit", "garbage", "portal", "trickle", "cut-upload", "409", "302",
          "html-200", "json-201")
RECEIVER_FAULTS = ("hq-409",)
PORTAL_PAGE = b"<html><body>Please log in to continue</body></html>"
_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "proxy-connection"}


def random_plan(seed: int, weights: dict[str, float]) -> Callable[[], str]:
    rng = random.Random(seed)
    names, probs = list(weights), list(weights.values())
    lock = threading.Lock()

    def plan() -> str:
        with lock:
            return rng.choices(names, probs)[0]

    return plan


def scripted_plan(faults: Iterable[str], then: str = "pass") -> Callable[[], str]:
    queue = list(faults)
    lock = threading.Lock()

    def plan() -> str:
        with lock:
            return queue.pop(0) if queue else then

    return plan


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one segment: with Nagle on and unbuffered writes, each
    # response waits for the client's delayed ACK (40 ms per request on Linux).
    disable_nagle_algorithm = True
    wbufsize = 1 << 16
    server: FaultProxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:  # recordings' chunks (sync/PROTOCOL.md, "Recordings")
        self._handle()

    def _refuse(self, status: int, headers: dict[str, str] | None = None,
                body: bytes = b'{"error":"injected"}') -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _handle(self) -> None:
        proxy = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/portal":  # where the "302" fault sends clients that follow it
            self._refuse(200, {"Content-Type": "text/html"}, PORTAL_PAGE)
            return
        fault = proxy.plan()
        proxy.seen.append(fault)
        if fault == "409":
            self._refuse(409, {"Content-Type": "application/json"}, b'{"error":"conflict"}')
            return
        if fault == "302":
            self._refuse(302, {"Location": proxy.url + "/portal", "Content-Type": "text/html"},
                         b"<html>Moved</html>")
            return
        if fault == "html-200":
            self._refuse(200, {"Content-Type": "text/html"}, PORTAL_PAGE)
            return
        if fault == "json-201":
            self._refuse(201, {"Content-Type": "application/json"}, b'{"status":"ok"}')
            return
        if fault in ("500", "502"):
            self._refuse(int(fault))
            return
        if fault in ("429", "503"):
            self._refuse(429, {"Retry-After": str(proxy.retry_after)})
            return
        if fault == "drop-request":
            self._reset()
            return
        if fault == "cut-upload":
            if body:
                self._forward_part(body[:len(body) // 2])
            self._reset()
            return
        status, headers, data = self._forward(body)
        if fault == "hq-409" and status == 200:
            status, headers, data = self._committed_409(data, body)
        if fault == "reset-after-commit":
            self._reset()
        elif fault == "timeout-after-commit":
            time.sleep(proxy.hold_s)
            self.close_connection = True
        elif fault == "garbage":
            self.wfile.write(b"\x00\x17garbage\xff not http at all\r\n\r\n")
            self.close_connection = True
        elif fault == "portal":
            page = b"<html><body>Please log in to continue</body></html>"
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                             + str(len(page)).encode() + b"\r\n\r\n" + page)
        else:
            raw = self._raw_response(status, headers, data)
            if fault == "trickle":
                for i in range(0, len(raw), 16):
                    self.wfile.write(raw[i:i + 16])
                    self.wfile.flush()
                    time.sleep(proxy.trickle_s)
            else:
                self.wfile.write(raw)

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        host, port = self.server.upstream
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            conn.request(self.command, self.path, body=body or None, headers=headers)
            response = conn.getresponse()
            data = response.read()
            return response.status, [(k, v) for k, v in response.getheaders()
                                     if k.lower() not in _HOP], data
        finally:
            conn.close()

    def _forward_part(self, part: bytes) -> None:
        """Headers (announcing the whole body) and ``part``, then the connection ends; waits
        until the receiver has closed its side, so that it has dealt with the part."""
        lines = [f"{self.command} {self.path} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in self.headers.items() if k.lower() not in _HOP]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        with socket.create_connection(self.server.upstream, timeout=10) as upstream:
            upstream.sendall(head + part)
            upstream.shutdown(socket.SHUT_WR)
            try:
                while upstream.recv(4096):
                    pass
            except OSError:
                pass

    def _committed_409(self, ack: bytes, batch: bytes
                       ) -> tuple[int, list[tuple[str, str]], bytes]:
        from sync._hq_proof import committed_reply

        batch_id = json.loads(ack)["batch"]
        stamp = int(time.time() * 1000)
        headers, data = committed_reply(self.server.secret, stamp, batch_id,
                                        hashlib.sha256(batch).hexdigest())
        return 409, list(headers.items()), data

    @staticmethod
    def _raw_response(status: int, headers: list[tuple[str, str]], data: bytes) -> bytes:
        lines = [f"HTTP/1.1 {status} {http.client.responses.get(status, '')}"]
        lines += [f"{k}: {v}" for k, v in headers if k.lower() != "content-length"]
        lines.append(f"Content-Length: {len(data)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


class FaultProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: tuple[str, int], plan: Callable[[], str],
                 retry_after: int = 1, hold_s: float = 1.0, trickle_s: float = 0.01,
                 secret: bytes = b"") -> None:
        self.upstream = upstream
        self.secret = secret  # signs the "hq-409" replies
        self.plan = plan
        self.retry_after = retry_after
        self.hold_s = hold_s
        self.trickle_s = trickle_s
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        threading.Thread(target=self.serve_forever, name="fault-proxy", daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()
