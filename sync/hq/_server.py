"""``edgecall hq serve``: the reference HQ receiver (stdlib HTTP server, one thread per
connection). Verifies box, timestamp window and signature, decodes, deduplicates, commits,
then acknowledges. Survey packs under ``surveys_dir`` are served for pull-down."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from edge.clock import format_utc

from .._signing import (
    HEADER_BATCH,
    HEADER_BOX,
    HEADER_OFFSET,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    sign,
    verify,
)
from ..codec import CodecError, decode_batch
from ._db import HqDb

log = logging.getLogger(__name__)

BATCH_PATH = "/v1/batches"
SURVEYS_PATH = "/v1/surveys/"


@dataclass
class HqSettings:
    secrets: Mapping[str, bytes]  # box id -> HMAC secret
    window_s: float = 300.0
    max_body: int = 4 * 1024 * 1024
    surveys_dir: Path | None = None
    wall: Callable[[], float] = time.time
    stats: dict[str, int] = field(default_factory=dict)
    partial_ttl_s: float = 3600.0  # how long a broken upload's bytes wait for the rest


class _Partials:
    """Bytes of uploads whose connection broke, so that the box resends only the rest
    (sync/PROTOCOL.md, "Resuming"). Unverified until the whole batch is there and its
    signature checks; a few per box (a box has at most a couple of batches on the wire)."""

    PER_BOX = 4

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # box -> batch id -> (bytes, monotonic time kept), oldest first
        self.items: dict[str, dict[str, tuple[bytes, float]]] = {}

    def keep(self, box: str, batch_id: str, data: bytes) -> None:
        with self.lock:
            held = self.items.setdefault(box, {})
            held.pop(batch_id, None)
            if data:
                held[batch_id] = (data, time.monotonic())
            while len(held) > self.PER_BOX:
                del held[next(iter(held))]

    def get(self, box: str, batch_id: str, ttl_s: float) -> bytes:
        with self.lock:
            held = self.items.get(box, {}).get(batch_id)
            if held is None:
                return b""
            if time.monotonic() - held[1] > ttl_s:
                del self.items[box][batch_id]
                return b""
            return held[0]

    def drop(self, box: str, batch_id: str) -> None:
        with self.lock:
            self.items.get(box, {}).pop(batch_id, None)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one TCP/TLS setup per drain on slow links
    # Headers and body leave in one segment: with Nagle on and unbuffered writes, each
    # response waits for the client's delayed ACK (40 ms per request on Linux).
    disable_nagle_algorithm = True
    wbufsize = 1 << 16
    server: HqServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _reply(self, status: int, doc: dict[str, Any], headers: Mapping[str, str] = {}) -> None:
        body = json.dumps(doc, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _count(self, what: str) -> None:
        stats = self.server.settings.stats
        stats[what] = stats.get(what, 0) + 1

    def do_POST(self) -> None:
        if self.path.split("?")[0] != BATCH_PATH:
            self._reply(404, {"error": "not-found"})
            return
        settings = self.server.settings
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            self._reply(411, {"error": "length-required"})
            self.close_connection = True
            return
        box = self.headers.get(HEADER_BOX, "")
        batch_id = self.headers.get(HEADER_BATCH, "")
        stamp = self.headers.get(HEADER_TIMESTAMP, "")
        signature = self.headers.get(HEADER_SIGNATURE, "")
        offset_text = self.headers.get(HEADER_OFFSET, "0")
        offset = int(offset_text) if offset_text.isdigit() else -1
        if offset < 0 or offset + int(length) > settings.max_body:
            self._reply(413, {"error": "too-large"})
            self.close_connection = True
            return
        secret = settings.secrets.get(box)
        partials = self.server.partials
        held = partials.get(box, batch_id, settings.partial_ttl_s) if offset else b""
        if offset and len(held) != offset:
            # Not the bytes this resume continues: the box starts again from what we hold.
            self._count("resume-mismatch")
            self._reply(416, {"error": "offset", "batch": batch_id, "received": len(held)})
            self.close_connection = True  # the unread body must not be taken for a request
            return
        body = self._read_body(int(length))
        if len(body) != int(length):
            if secret is not None and batch_id:
                partials.keep(box, batch_id, held + body)
            self.close_connection = True
            return
        if secret is None:
            self._count("unknown-box")
            self._reply(401, {"error": "unknown-box"})
            return
        body = held + body
        if offset:
            partials.drop(box, batch_id)
        if not verify(secret, stamp, body, signature):
            if offset:  # the held part may be what is wrong: have the whole batch sent again
                self._count("resume-mismatch")
                self._reply(416, {"error": "offset", "batch": batch_id, "received": 0})
                return
            self._count("bad-signature")
            self._reply(401, {"error": "bad-signature"})
            return
        now_ms = int(settings.wall() * 1000)
        window_ms = int(settings.window_s * 1000)
        if abs(now_ms - int(stamp)) > window_ms:
            self._count("stale-timestamp")
            self._reply(401, {"error": "stale-timestamp", "server_ms": now_ms})
            return
        db = self.server.db
        if db.signature_seen(signature):
            self._count("replay")
            self._reply(401, {"error": "replay"})
            return
        try:
            batch = decode_batch(body)
        except CodecError as exc:
            self._count("malformed")
            self._reply(400, {"error": "malformed", "detail": str(exc)[:200]})
            return
        if batch.get("box") != box or batch.get("batch") != batch_id:
            self._count("mismatch")
            self._reply(422, {"error": "header-body-mismatch"})
            return
        callbacks = batch.get("callbacks", [])
        if not _callbacks_ok(callbacks):
            self._count("malformed")
            self._reply(400, {"error": "malformed", "detail": "callbacks"})
            return
        status, records, new = db.store_batch(
            box, batch_id, hashlib.sha256(body).hexdigest(), batch["records"], signature,
            int(stamp), now_ms - 2 * window_ms, format_utc(settings.wall()), callbacks)
        if status == "replay":
            self._count("replay")
            self._reply(401, {"error": "replay"})
            return
        self._count(status)
        self._reply(200, {"batch": batch_id, "status": status, "records": records, "new": new})

    def _read_body(self, length: int) -> bytes:
        """Up to ``length`` bytes; fewer when the connection breaks (kept for a resume)."""
        data = bytearray()
        try:
            while len(data) < length:
                chunk = self.rfile.read1(min(length - len(data), 1 << 16))
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        return bytes(data)

    def _received(self, batch_id: str) -> None:
        """GET <batch path>/<batch id>: how many bytes of a broken upload HQ holds, or the
        SHA-256 of the batch when it is already committed. Signed like a batch, over the
        batch id, so that only the box learns it."""
        settings = self.server.settings
        box = self.headers.get(HEADER_BOX, "")
        stamp = self.headers.get(HEADER_TIMESTAMP, "")
        secret = settings.secrets.get(box)
        if secret is None:
            self._reply(401, {"error": "unknown-box"})
            return
        if not verify(secret, stamp, batch_id.encode(), self.headers.get(HEADER_SIGNATURE, "")):
            self._reply(401, {"error": "bad-signature"})
            return
        if abs(int(settings.wall() * 1000) - int(stamp)) > settings.window_s * 1000:
            self._reply(401, {"error": "stale-timestamp"})
            return
        doc: dict[str, Any] = {"batch": batch_id, "received": 0}
        stored = self.server.db.batch_sha256(box, batch_id)
        if stored is not None:  # committed, its answer lost: the box need not send it again
            doc["sha256"] = stored
        else:
            doc["received"] = len(self.server.partials.get(box, batch_id,
                                                           settings.partial_ttl_s))
        self._reply(200, doc)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/v1/health":
            self._reply(200, {"ok": True, "records": self.server.db.count()})
            return
        if path.startswith(BATCH_PATH + "/"):
            self._received(unquote(path[len(BATCH_PATH) + 1:]))
            return
        surveys = self.server.settings.surveys_dir
        if surveys is not None and path == SURVEYS_PATH + "current.json":
            self._serve_manifest(surveys / "current.json")
            return
        if surveys is not None and path.startswith(SURVEYS_PATH):
            self._serve_file(surveys, unquote(path[len(SURVEYS_PATH):]))
            return
        self._reply(404, {"error": "not-found"})

    def _serve_manifest(self, manifest: Path) -> None:
        # Signed with the asking box's secret so that a box on plain HTTP, behind a captive
        # portal or a hostile proxy still only switches to what HQ published.
        secret = self.server.settings.secrets.get(self.headers.get(HEADER_BOX, ""))
        if secret is None:
            self._reply(401, {"error": "unknown-box"})
            return
        if not manifest.is_file():
            self._reply(404, {"error": "nothing-published"})
            return
        body = manifest.read_bytes()
        stamp = int(self.server.settings.wall() * 1000)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header(HEADER_TIMESTAMP, str(stamp))
        self.send_header(HEADER_SIGNATURE, sign(secret, stamp, body))
        self.end_headers()
        self.wfile.write(body)

    def _serve_file(self, root: Path, relative: str) -> None:
        target = (root / relative).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            self._reply(404, {"error": "not-found"})
            return
        data = target.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class HqServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], db: HqDb, settings: HqSettings) -> None:
        self.db = db
        self.settings = settings
        self.partials = _Partials()
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="hq", daemon=True)
        thread.start()
        return thread


def _callbacks_ok(callbacks: Any) -> bool:
    return isinstance(callbacks, list) and all(
        isinstance(c, dict) and all(isinstance(c.get(k), str)
                                    for k in ("call", "number", "requested_utc"))
        for c in callbacks)


def load_box_secrets(path: Path) -> dict[str, bytes]:
    """``[boxes]`` table of a TOML file: box id = secret string."""
    import tomllib

    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    boxes = raw.get("boxes", {})
    return {str(k): str(v).encode() for k, v in boxes.items()}
