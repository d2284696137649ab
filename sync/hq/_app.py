"""The HQ receiver as a WSGI application on Bottle (the project's web framework, as the box's
status page): batches (sync/PROTOCOL.md), the resume count, heartbeats, survey packs for
authenticated boxes, and the fleet page. Any WSGI server runs it: gunicorn in production
(``edgecall hq serve``), a small threaded one in tests (``_devserver``).

Order of work for a batch, cheapest refusal first: headers parsed strictly; box known;
request signature (``X-Edgecall-Auth``, over box, batch, offset, length and timestamp)
verified; timestamp in the window; signature not seen; only then the body is read (with a
read timeout), its signature verified, decoded within limits, its records checked to belong
to the box, committed, acknowledged. One log line per batch."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote

import bottle

from edge.clock import format_utc
from edge.records import canonical_json

from .._signing import (
    HEADER_AUTH,
    HEADER_BATCH,
    HEADER_BOX,
    HEADER_OFFSET,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    request_auth,
    sign,
)
from ..codec import CodecError, decode_batch
from ._http import Headers, Refusal, json_reply, read_body, stop_reading
from ._limits import BATCH_ID, BOX_ID, SIGNATURE, callbacks_ok, digits, refuse_records
from ._settings import HqSettings
from .storage import Storage

log = logging.getLogger("edgecall.hq")

BATCH_PATH = "/v1/batches"
HEARTBEAT_PATH = "/v1/heartbeat"
SURVEYS_PATH = "/v1/surveys/"


class Receiver:
    """The request logic, on a :class:`Storage`; ``make_app`` routes to it."""

    def __init__(self, storage: Storage, settings: HqSettings) -> None:
        self.storage = storage
        self.settings = settings

    def count(self, what: str) -> None:
        stats = self.settings.stats
        stats[what] = stats.get(what, 0) + 1

    def now_utc(self) -> str:
        return format_utc(self.settings.wall())

    # -- authentication ------------------------------------------------------------------
    def box_of(self, headers: Any) -> tuple[str, list[tuple[str, bytes]]]:
        box = headers.get(HEADER_BOX, "")
        if not BOX_ID.fullmatch(box):
            raise Refusal(400, {"error": "bad-header", "header": HEADER_BOX})
        keys = self.storage.box_keys(box, self.now_utc())
        if not keys:
            raise Refusal(401, {"error": "unknown-box"})
        return box, keys

    def stamp_of(self, headers: Any) -> int:
        stamp = digits(headers.get(HEADER_TIMESTAMP), 10**15)
        if stamp is None:
            raise Refusal(400, {"error": "bad-header", "header": HEADER_TIMESTAMP})
        return stamp

    def check_fresh(self, stamp: int) -> None:
        now_ms = int(self.settings.wall() * 1000)
        if abs(now_ms - stamp) > self.settings.window_s * 1000:
            # Date lets a box with a wrong clock correct its offset and retry.
            raise Refusal(401, {"error": "stale-timestamp", "server_ms": now_ms},
                           {"Date": formatdate(self.settings.wall(), usegmt=True)})

    @staticmethod
    def matching_key(keys: list[tuple[str, bytes]], expected: Callable[[bytes], str],
                  given: str) -> str | None:
        """Which key ("current"/"previous") produced ``given``, None for none."""
        found = None
        for name, key in keys:  # every key tried: the time taken says nothing
            if hmac.compare_digest(expected(key), given) and found is None:
                found = name
        return found

    def note_key_used(self, box: str, key: str | None) -> None:
        if key == "current":
            self.storage.retire_previous_key(box)

    # -- POST /v1/batches ----------------------------------------------------------------
    def post_batch(self, environ: dict[str, Any], headers: Any
                   ) -> tuple[int, dict[str, Any], bytes | None]:
        """(status, answer, the key to sign the answer with: None for none)."""
        limits = self.settings.limits
        length = digits(headers.get("Content-Length"), 10**12)
        if length is None:
            raise Refusal(411, {"error": "length-required"})
        box, keys = self.box_of(headers)
        batch_id = headers.get(HEADER_BATCH, "")
        if not BATCH_ID.fullmatch(batch_id):
            raise Refusal(400, {"error": "bad-header", "header": HEADER_BATCH})
        stamp = self.stamp_of(headers)
        signature = headers.get(HEADER_SIGNATURE, "")
        if not SIGNATURE.fullmatch(signature):
            raise Refusal(401, {"error": "bad-signature"})
        offset = digits(headers.get(HEADER_OFFSET, "0"), 10**12)
        if offset is None:
            raise Refusal(400, {"error": "bad-header", "header": HEADER_OFFSET})
        if offset + length > limits.max_body:
            raise Refusal(413, {"error": "too-large", "max_bytes": limits.max_body})
        auth = headers.get(HEADER_AUTH)
        key_used = None
        if auth is not None or not self.settings.body_only_auth:
            key_used = self.matching_key(
                keys, lambda k: request_auth(k, stamp, box, batch_id, offset, length),
                auth or "")
            if key_used is None:
                raise Refusal(401, {"error": "bad-signature"})
        self.check_fresh(stamp)
        if self.storage.signature_seen(signature):
            raise Refusal(401, {"error": "replay"})
        now = self.settings.wall()
        held = (self.storage.partial(box, batch_id, self.settings.partial_ttl_s, now)
                if offset else b"")
        if offset and len(held) != offset:
            # Not the bytes this resume continues: the box starts again from what we hold.
            self.count("resume-mismatch")
            raise Refusal(416, {"error": "offset", "batch": batch_id, "received": len(held)})
        body = read_body(environ, length, limits.body_timeout_s)
        if len(body) != length:
            if key_used is not None:  # only an authenticated box's part is kept
                self.storage.keep_partial(box, batch_id, held + body, now)
            self.count("cut")
            return 400, {"error": "incomplete-body", "received": offset + len(body)}, None
        body = held + body
        if offset:
            self.storage.drop_partial(box, batch_id)
        key_used = self.matching_key(keys, lambda k: sign(k, stamp, body), signature)
        if key_used is None:
            if offset:  # the held part may be what is wrong: have the whole batch sent again
                self.count("resume-mismatch")
                raise Refusal(416, {"error": "offset", "batch": batch_id, "received": 0})
            raise Refusal(401, {"error": "bad-signature"})
        self.note_key_used(box, key_used)
        try:
            batch = decode_batch(body, max_size=limits.max_decompressed,
                                 max_rows=limits.max_rows, max_chars=limits.max_chars,
                                 max_depth=limits.max_depth)
        except CodecError as exc:
            raise Refusal(400, {"error": "malformed", "detail": str(exc)[:200]}) from exc
        if batch.get("box") != box or batch.get("batch") != batch_id:
            raise Refusal(422, {"error": "header-body-mismatch"})
        if not batch_id.startswith(box + "."):
            raise Refusal(422, {"error": "foreign-records",
                                 "detail": f"batch id {batch_id!r} is not box {box}'s"})
        bodies = [canonical_json(r.body) for r in batch["records"]]  # checked, then stored
        refused = refuse_records(box, batch["records"], limits, bodies)
        if refused is not None:
            error = {422: "foreign-records", 413: "too-large"}.get(refused[0], "malformed")
            raise Refusal(refused[0], {"error": error, "detail": refused[1][:300]})
        callbacks = batch.get("callbacks", [])
        if not callbacks_ok(box, callbacks):
            raise Refusal(400, {"error": "malformed", "detail": "callbacks"})
        window_ms = int(self.settings.window_s * 1000)
        result = self.storage.store_batch(
            box, batch_id, hashlib.sha256(body).hexdigest(), batch["records"], signature,
            stamp, format_utc(now), callbacks, bodies)
        self.storage.prune_signatures(int(now * 1000) - 2 * window_ms)
        if result.status == "replay":
            raise Refusal(401, {"error": "replay"})
        return 200, {"batch": batch_id, "status": result.status, "records": result.records,
                     "new": result.new}, dict(keys)[key_used]

    # -- GET /v1/batches/<id> ------------------------------------------------------------
    def received(self, batch_id: str, headers: Any) -> tuple[dict[str, Any], bytes]:
        """How many bytes of a broken upload HQ holds, or the SHA-256 of the batch when it
        is already committed. Signed like a batch, over the batch id."""
        box, keys = self.box_of(headers)
        stamp = self.stamp_of(headers)
        key = self.matching_key(keys, lambda k: sign(k, stamp, batch_id.encode()),
                             headers.get(HEADER_SIGNATURE, ""))
        if key is None:
            raise Refusal(401, {"error": "bad-signature"})
        self.check_fresh(stamp)
        doc: dict[str, Any] = {"batch": batch_id, "received": 0}
        stored = self.storage.batch_sha256(box, batch_id)
        if stored is not None:  # committed, its answer lost: the box need not send it again
            doc["sha256"] = stored
        else:
            doc["received"] = len(self.storage.partial(
                box, batch_id, self.settings.partial_ttl_s, self.settings.wall()))
        return doc, dict(keys)[key]

    # -- signed GETs and heartbeats --------------------------------------------------------
    def signed_get(self, path: str, headers: Any) -> tuple[str, bytes]:
        """The box and its key for a GET signed over its path (survey packs)."""
        box, keys = self.box_of(headers)
        stamp = self.stamp_of(headers)
        key = self.matching_key(keys, lambda k: sign(k, stamp, path.encode()),
                             headers.get(HEADER_SIGNATURE, ""))
        if key is None:
            raise Refusal(401, {"error": "bad-signature"})
        self.check_fresh(stamp)
        self.storage.seen(box, self.now_utc())
        return box, dict(keys)[key]

    def heartbeat(self, environ: dict[str, Any], headers: Any) -> dict[str, Any]:
        limits = self.settings.limits
        length = digits(headers.get("Content-Length"), limits.max_heartbeat)
        if length is None:
            raise Refusal(413, {"error": "too-large", "max_bytes": limits.max_heartbeat})
        box, keys = self.box_of(headers)
        stamp = self.stamp_of(headers)
        self.check_fresh(stamp)
        body = read_body(environ, length, limits.body_timeout_s)
        key = self.matching_key(keys, lambda k: sign(k, stamp, body),
                             headers.get(HEADER_SIGNATURE, ""))
        if key is None:
            raise Refusal(401, {"error": "bad-signature"})
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise Refusal(400, {"error": "malformed"}) from exc
        if not isinstance(doc, dict):
            raise Refusal(400, {"error": "malformed"})
        self.note_key_used(box, key)
        self.storage.record_heartbeat(box, doc, self.now_utc())
        return {"ok": True, "box": box}


def make_app(storage: Storage, settings: HqSettings) -> bottle.Bottle:
    receiver = Receiver(storage, settings)
    app = bottle.Bottle(catchall=True)
    app.config["edgecall.receiver"] = receiver

    def refused(exc: Refusal, environ: dict[str, Any], body_unread: bool) -> str:
        receiver.count(exc.doc.get("error", "refused"))
        if body_unread:
            stop_reading(environ)
        return json_reply(exc.status, exc.doc, exc.headers)

    @app.post(BATCH_PATH)
    def post_batch() -> str:
        environ = bottle.request.environ
        headers = Headers(environ)
        started = time.monotonic()
        box = headers.get(HEADER_BOX, "-")[:40]
        batch_id = headers.get(HEADER_BATCH, "-")[:160]
        try:
            status, doc, key = receiver.post_batch(environ, headers)
        except Refusal as exc:
            answer = refused(exc, environ, not environ.get("edgecall.body_read"))
            status, doc = exc.status, exc.doc
        else:
            receiver.count(doc.get("status", doc.get("error", "?")))
            answer = json_reply(status, doc, key=key, wall=settings.wall)
        # One line per batch: box, batch, records, result (and why, for a refusal).
        log.info("batch box=%s batch=%s records=%s new=%s result=%s%s ms=%d", box, batch_id,
                 doc.get("records", "-"), doc.get("new", "-"),
                 doc.get("status") or doc.get("error"),
                 f" detail={doc['detail']!r}" if "detail" in doc else "",
                 (time.monotonic() - started) * 1000)
        return answer

    @app.get(BATCH_PATH + "/<batch_id>")
    def held(batch_id: str) -> str:
        try:
            doc, key = receiver.received(unquote(batch_id), Headers(bottle.request.environ))
            return json_reply(200, doc, key=key, wall=settings.wall)
        except Refusal as exc:
            return refused(exc, bottle.request.environ, False)

    @app.post(HEARTBEAT_PATH)
    def heartbeat() -> str:
        try:
            return json_reply(200, receiver.heartbeat(bottle.request.environ,
                                                  Headers(bottle.request.environ)))
        except Refusal as exc:
            return refused(exc, bottle.request.environ,
                           not bottle.request.environ.get("edgecall.body_read"))

    @app.get("/v1/health")
    def health() -> str:
        return json_reply(200, {"ok": True})

    @app.get(SURVEYS_PATH + "<path:path>")
    def surveys(path: str) -> Any:
        root = settings.surveys_dir
        try:
            _box, key = receiver.signed_get(SURVEYS_PATH + path, Headers(bottle.request.environ))
        except Refusal as exc:
            return refused(exc, bottle.request.environ, False)
        if root is None:
            return json_reply(404, {"error": "nothing-published"})
        if path == "current.json":
            manifest = root / "current.json"
            if not manifest.is_file():
                return json_reply(404, {"error": "nothing-published"})
            body = manifest.read_bytes()
            stamp = int(settings.wall() * 1000)
            # Signed with the box's key so that a box behind a captive portal or a hostile
            # proxy still only switches to what HQ published.
            bottle.response.set_header(HEADER_TIMESTAMP, str(stamp))
            bottle.response.set_header(HEADER_SIGNATURE, sign(key, stamp, body))
            bottle.response.content_type = "application/json"
            return body
        target = (root / path).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            return json_reply(404, {"error": "not-found"})
        bottle.response.content_type = "application/octet-stream"
        return target.read_bytes()

    if settings.audio_dir is not None:
        from ._audio import add_audio_routes

        add_audio_routes(app, receiver, settings)

    if settings.fleet_password:
        from ._fleet_page import add_fleet_routes

        authenticate = add_fleet_routes(app, storage, settings)
        if settings.audio_dir is not None:
            from ._audio import add_audio_page

            add_audio_page(app, settings, authenticate, storage)

    @app.error(404)
    def not_found(_error: Any) -> str:
        return json_reply(404, {"error": "not-found"})

    @app.error(405)
    def not_allowed(_error: Any) -> str:
        return json_reply(405, {"error": "method-not-allowed"})

    @app.error(500)
    def failed(error: Any) -> str:
        log.error("HQ request failed: %s", getattr(error, "exception", error))
        return json_reply(500, {"error": "internal"})

    return app
