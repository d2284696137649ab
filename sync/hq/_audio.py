"""Recorded answers at HQ (sync/PROTOCOL.md, "Recordings"): boxes put a recording's link
copy in chunks at ``/v1/audio/<reference>`` and ask how much HQ holds; analysts fetch whole
files at ``/audio/<box>/<call id>/<state>.opus`` (the fleet page's password).

Order of work for a chunk, cheapest refusal first, as for a batch: headers parsed strictly;
box known; request signature (over box, reference, offset, length, and the whole file's
size, SHA-256 and format) verified; timestamp fresh; signature not seen; the box's ``audio``
record known; then the body is read and appended where HQ's part ends. When the part is
whole and matches the SHA-256 it becomes the file, named in storage once (repeats answer
``duplicate``); otherwise it is dropped and the box starts again."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import unquote

import bottle

from .._signing import (
    HEADER_AUDIO_FORMAT,
    HEADER_AUDIO_SHA256,
    HEADER_AUDIO_SIZE,
    HEADER_AUTH,
    HEADER_OFFSET,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    audio_auth,
    sign,
)
from ._app import Receiver, _Headers, _json, _read_body, _Refusal, _stop_reading
from ._audio_files import AudioFiles, OffsetMismatch
from ._limits import AUDIO_FORMAT, AUDIO_REFERENCE, SHA256, digits
from ._settings import HqSettings

log = logging.getLogger("edgecall.hq")

AUDIO_PATH = "/v1/audio/"
PAGE_PATH = "/audio/"


class AudioReceiver:
    def __init__(self, receiver: Receiver, files: AudioFiles) -> None:
        self.receiver = receiver
        self.storage = receiver.storage
        self.settings = receiver.settings
        self.files = files

    def _reference(self, box: str, text: str) -> str:
        reference = unquote(text)
        if not AUDIO_REFERENCE.fullmatch(reference):
            raise _Refusal(400, {"error": "bad-reference"})
        if not reference.startswith(box + "."):
            raise _Refusal(422, {"error": "foreign-records",
                                 "detail": f"{reference!r} is not box {box}'s"})
        return reference

    def _stored(self, reference: str, sha256: str) -> dict[str, Any] | None:
        """HQ's answer when it already holds the recording whole (None: it does not)."""
        held = self.storage.audio_file(reference)
        if held is None:
            return None
        if held["sha256"] != sha256:
            raise _Refusal(409, {"audio": reference, "error": "conflict",
                                 "sha256": held["sha256"]})
        return {"audio": reference, "status": "duplicate", "sha256": sha256,
                "bytes": held["bytes"], "received": held["bytes"]}

    # -- PUT /v1/audio/<reference> ----------------------------------------------------------
    def put(self, text: str, environ: dict[str, Any], headers: Any
            ) -> tuple[dict[str, Any], bytes]:
        limits = self.settings.limits
        length = digits(headers.get("Content-Length"), 10**12)
        if length is None:
            raise _Refusal(411, {"error": "length-required"})
        box, keys = self.receiver._box(headers)
        reference = self._reference(box, text)
        stamp = self.receiver._stamp(headers)
        fields = {}
        for name, header, upper in (("offset", HEADER_OFFSET, 10**12),
                                    ("size", HEADER_AUDIO_SIZE, 10**12)):
            value = digits(headers.get(header), upper)
            if value is None:
                raise _Refusal(400, {"error": "bad-header", "header": header})
            fields[name] = value
        offset, size = fields["offset"], fields["size"]
        sha256 = headers.get(HEADER_AUDIO_SHA256, "")
        fmt = headers.get(HEADER_AUDIO_FORMAT, "")
        for value, pattern, header in ((sha256, SHA256, HEADER_AUDIO_SHA256),
                                       (fmt, AUDIO_FORMAT, HEADER_AUDIO_FORMAT)):
            if not pattern.fullmatch(value):
                raise _Refusal(400, {"error": "bad-header", "header": header})
        if size > limits.max_audio_bytes or length > limits.max_body:
            raise _Refusal(413, {"error": "too-large", "max_bytes": min(
                limits.max_audio_bytes, limits.max_body)})
        if size == 0 or offset + length > size:
            raise _Refusal(400, {"error": "malformed", "detail": "chunk beyond the file"})
        auth = headers.get(HEADER_AUTH, "")
        key_used = self.receiver._matching(
            keys, lambda k: audio_auth(k, stamp, box, reference, offset, length, size, sha256,
                                       fmt), auth)
        if key_used is None:
            raise _Refusal(401, {"error": "bad-signature"})
        self.receiver._fresh(stamp)
        if not self.storage.remember_signature(auth, stamp):
            raise _Refusal(401, {"error": "replay"})
        self.receiver._used(box, key_used)
        key = dict(keys)[key_used]
        if self.storage.audio_record(box, reference) is None:
            raise _Refusal(409, {"audio": reference, "error": "unknown-audio"})
        try:
            done = self._stored(reference, sha256)
        except _Refusal as exc:
            exc.headers.update(_signed(key, exc.doc, self.settings))
            raise
        if done is not None:
            # Read and dropped: the box has sent it anyway, and an unread body would reset
            # the connection under the answer that tells the box it is done.
            _read_body(environ, length, limits.body_timeout_s)
            return done, key
        held = self.files.held(box, reference)
        if held != offset:  # not where HQ's part ends: the box goes on from HQ's count
            raise _Refusal(416, {"audio": reference, "error": "offset", "received": held})
        body = _read_body(environ, length, limits.body_timeout_s)
        try:
            held = self.files.append(box, reference, offset, body)
        except OffsetMismatch as exc:
            raise _Refusal(416, {"audio": reference, "error": "offset",
                                 "received": exc.held}) from exc
        if len(body) != length:
            self.receiver.count("audio-cut")
            return {"error": "incomplete-body", "received": held}, b""
        if held < size:
            return {"audio": reference, "received": held}, key
        relative = self.files.finish(box, reference, size, sha256)
        if relative is None:
            self.receiver.count("audio-sha256-mismatch")
            raise _Refusal(422, {"audio": reference, "error": "sha256-mismatch"})
        status = self.storage.store_audio(box, reference, relative, size, sha256, fmt,
                                          self.receiver.now_utc())
        if status == "conflict":
            raise _Refusal(409, {"audio": reference, "error": "conflict"},
                           _signed(key, {"audio": reference, "error": "conflict"},
                                   self.settings))
        return {"audio": reference, "status": status, "sha256": sha256, "bytes": size,
                "received": size}, key

    # -- GET /v1/audio/<reference> -----------------------------------------------------------
    def held(self, text: str, headers: Any) -> tuple[dict[str, Any], bytes]:
        box, keys = self.receiver._box(headers)
        reference = self._reference(box, text)
        stamp = self.receiver._stamp(headers)
        key = self.receiver._matching(keys, lambda k: sign(k, stamp, reference.encode()),
                                      headers.get(HEADER_SIGNATURE, ""))
        if key is None:
            raise _Refusal(401, {"error": "bad-signature"})
        self.receiver._fresh(stamp)
        stored = self.storage.audio_file(reference)
        if stored is None and self.storage.audio_record(box, reference) is None:
            raise _Refusal(409, {"audio": reference, "error": "unknown-audio"})
        if stored is not None:
            return {"audio": reference, "status": "stored", "sha256": stored["sha256"],
                    "bytes": stored["bytes"], "received": stored["bytes"]}, dict(keys)[key]
        return {"audio": reference, "received": self.files.held(box, reference)}, \
            dict(keys)[key]


def _signed(key: bytes, doc: dict[str, Any], settings: HqSettings) -> dict[str, str]:
    """Signature headers of a refusal the box must be able to trust (a conflict)."""
    stamp = int(settings.wall() * 1000)
    body = json.dumps(doc, separators=(",", ":")).encode()
    return {HEADER_TIMESTAMP: str(stamp), HEADER_SIGNATURE: sign(key, stamp, body)}


def add_audio_routes(app: bottle.Bottle, receiver: Receiver, settings: HqSettings) -> None:
    assert settings.audio_dir is not None
    audio = AudioReceiver(receiver, AudioFiles(settings.audio_dir))

    @app.route(AUDIO_PATH + "<reference:path>", method=["PUT", "POST"])
    def put(reference: str) -> str:
        environ = bottle.request.environ
        started = time.monotonic()
        try:
            doc, key = audio.put(reference, environ, _Headers(environ))
        except _Refusal as exc:
            receiver.count(exc.doc.get("error", "refused"))
            if not environ.get("edgecall.body_read"):
                _stop_reading(environ)
            status, doc, answer = exc.status, exc.doc, _json(exc.status, exc.doc, exc.headers)
        else:
            status = 400 if "error" in doc else 200
            answer = _json(status, doc, key=key or None, wall=settings.wall)
        log.info("audio box=%s reference=%s offset=%s bytes=%s result=%s ms=%d",
                 _Headers(environ).get("X-Edgecall-Box", "-")[:40], unquote(reference)[:200],
                 _Headers(environ).get(HEADER_OFFSET, "-")[:20], doc.get("received", "-"),
                 doc.get("status") or doc.get("error") or "part",
                 (time.monotonic() - started) * 1000)
        return answer

    @app.get(AUDIO_PATH + "<reference:path>")
    def held(reference: str) -> str:
        try:
            doc, key = audio.held(reference, _Headers(bottle.request.environ))
            return _json(200, doc, key=key, wall=settings.wall)
        except _Refusal as exc:
            receiver.count(exc.doc.get("error", "refused"))
            return _json(exc.status, exc.doc, exc.headers)


def add_audio_page(app: bottle.Bottle, settings: HqSettings, authenticate: Any,
                   storage: Any) -> None:
    """Whole recordings for people, behind the fleet page's password: the links of the
    exports (what Studio's RecordingUrl is for a recording made online)."""
    assert settings.audio_dir is not None
    files = AudioFiles(settings.audio_dir)

    @app.get(PAGE_PATH + "<relative:path>")
    def recording(relative: str) -> Any:
        authenticate()
        if not storage.audio_files(path=relative):  # only files HQ named, never a part
            return _json(404, {"error": "not-found"})
        bottle.response.set_header("Cache-Control", "private, max-age=86400")
        return bottle.static_file(relative, root=str(files.root), mimetype="audio/ogg")
