"""The HTTP pieces every HQ route shares: an early answer (``Refusal``), JSON answers (signed
when given a key), headers read as the server read them, and reading or refusing a body
without being held up by it."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import bottle

from .._signing import HEADER_SIGNATURE, HEADER_TIMESTAMP, sign

log = logging.getLogger("edgecall.hq")


class Refusal(Exception):
    """An answer that ends a request early: status, JSON document, extra headers."""

    def __init__(self, status: int, doc: dict[str, Any],
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(doc.get("error", ""))
        self.status = status
        self.doc = doc
        self.headers = headers or {}


def json_reply(status: int, doc: dict[str, Any], headers: dict[str, str] | None = None,
          key: bytes | None = None, wall: Callable[[], float] = time.time) -> str:
    """A JSON answer; with ``key``, signed like a batch over its body (sync/PROTOCOL.md,
    "Replies HQ signs"), so that no middlebox can pass for HQ's acknowledgement."""
    bottle.response.status = status
    bottle.response.content_type = "application/json"
    for name, value in (headers or {}).items():
        bottle.response.set_header(name, value)
    body = json.dumps(doc, separators=(",", ":"))
    if key is not None:
        stamp = int(wall() * 1000)
        bottle.response.set_header(HEADER_TIMESTAMP, str(stamp))
        bottle.response.set_header(HEADER_SIGNATURE, sign(key, stamp, body.encode()))
    return body


def stop_reading(environ: dict[str, Any]) -> None:
    """After a refusal with the body unread: the server must not read (drain) it to find
    the next request. Shutting our side for reading makes the body an EOF; the answer still
    goes out, then the connection closes."""
    sock = environ.get("gunicorn.socket") or environ.get("edgecall.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RD)


def read_body(environ: dict[str, Any], length: int, timeout_s: float) -> bytes:
    """Up to ``length`` bytes; fewer when the connection breaks or stalls past the timeout
    (what came is kept for a resume)."""
    environ["edgecall.body_read"] = True
    sock = environ.get("gunicorn.socket") or environ.get("edgecall.socket")
    if sock is not None:
        sock.settimeout(timeout_s)
    stream = environ["wsgi.input"]
    data = bytearray()
    try:
        while len(data) < length:
            chunk = stream.read(min(length - len(data), 1 << 16))
            if not chunk:
                break
            data += chunk
    except (OSError, ValueError):  # reset, timeout; gunicorn raises its own on a cut body
        pass
    except Exception as exc:  # gunicorn.http.errors.NoMoreData and kin
        log.debug("body read ended: %s", type(exc).__name__)
    return bytes(data)


class Headers:
    """Request headers straight from the WSGI environ, as the server read them (latin-1
    text). Bottle's view re-decodes them as UTF-8 and raises on a stray byte such as "²"."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ

    def get(self, name: str, default: str | None = None) -> Any:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            key = "HTTP_" + key
        value = self.environ.get(key)
        return default if value is None else value
