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
from collections.abc import Callable
from typing import Any, Protocol
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
from ._audio_files import AudioFiles, OffsetMismatch
from ._http import Headers, Refusal, json_reply, read_body, stop_reading
from ._limits import AUDIO_FORMAT, AUDIO_REFERENCE, SHA256, digits
from ._settings import HqSettings
from .storage import Storage

log = logging.getLogger("edgecall.hq")


class Authenticating(Protocol):
    """What the recordings' routes take from the batch receiver (``_app.Receiver``): the
    storage and settings, its counters and clock, and how it checks a signed request. Declared
    here so this module does not import the app that routes to it."""

    storage: Storage
    settings: HqSettings

    def count(self, what: str) -> None: ...

    def now_utc(self) -> str: ...

    def box_of(self, headers: Any) -> tuple[str, list[tuple[str, bytes]]]: ...

    def stamp_of(self, headers: Any) -> int: ...

    def check_fresh(self, stamp: int) -> None: ...

    def matching_key(self, keys: list[tuple[str, bytes]], expected: Callable[[bytes], str],
                     given: str) -> str | None: ...

    def note_key_used(self, box: str, key: str | None) -> None: ...

AUDIO_PATH = "/v1/audio/"
PAGE_PATH = "/audio/"


class AudioReceiver:
    def __init__(self, receiver: Authenticating, files: AudioFiles) -> None:
        self.receiver = receiver
        self.storage = receiver.storage
        self.settings = receiver.settings
        self.files = files

    def _reference(self, box: str, text: str) -> str:
        reference = unquote(text)
        if not AUDIO_REFERENCE.fullmatch(reference):
            raise Refusal(400, {"error": "bad-reference"})
        if not reference.startswith(box + "."):
            raise Refusal(422, {"error": "foreign-records",
                                 "detail": f"{reference!r} is not box {box}'s"})
        return reference

    def _stored(self, reference: str, sha256: str) -> dict[str, Any] | None:
        """HQ's answer when it already holds the recording whole (None: it does not)."""
        held = self.storage.audio_file(reference)
        if held is None:
            return None
        if held["sha256"] != sha256:
            raise Refusal(409, {"audio": reference, "error": "conflict",
                                 "sha256": held["sha256"]})
        return {"audio": reference, "status": "duplicate", "sha256": sha256,
                "bytes": held["bytes"], "received": held["bytes"]}

    # -- PUT /v1/audio/<reference> ----------------------------------------------------------
    def put(self, text: str, environ: dict[str, Any], headers: Any
            ) -> tuple[dict[str, Any], bytes]:
        limits = self.settings.limits
        length = digits(headers.get("Content-Length"), 10**12)
        if length is None:
            raise Refusal(411, {"error": "length-required"})
        box, keys = self.receiver.box_of(headers)
        reference = self._reference(box, text)
        stamp = self.receiver.stamp_of(headers)
        fields = {}
        for name, header, upper in (("offset", HEADER_OFFSET, 10**12),
                                    ("size", HEADER_AUDIO_SIZE, 10**12)):
            value = digits(headers.get(header), upper)
            if value is None:
                raise Refusal(400, {"error": "bad-header", "header": header})
            fields[name] = value
        offset, size = fields["offset"], fields["size"]
        sha256 = headers.get(HEADER_AUDIO_SHA256, "")
        fmt = headers.get(HEADER_AUDIO_FORMAT, "")
        for value, pattern, header in ((sha256, SHA256, HEADER_AUDIO_SHA256),
                                       (fmt, AUDIO_FORMAT, HEADER_AUDIO_FORMAT)):
            if not pattern.fullmatch(value):
                raise Refusal(400, {"error": "bad-header", "header": header})
        if size > limits.max_audio_bytes or length > limits.max_body:
            raise Refusal(413, {"error": "too-large", "max_bytes": min(
                limits.max_audio_bytes, limits.max_body)})
        if size == 0 or offset + length > size:
            raise Refusal(400, {"error": "malformed", "detail": "chunk beyond the file"})
        auth = headers.get(HEADER_AUTH, "")
        key_used = self.receiver.matching_key(
            keys, lambda k: audio_auth(k, stamp, box, reference, offset, length, size, sha256,
                                       fmt), auth)
        if key_used is None:
            raise Refusal(401, {"error": "bad-signature"})
        self.receiver.check_fresh(stamp)
        if not self.storage.remember_signature(auth, stamp):
            raise Refusal(401, {"error": "replay"})
        self.receiver.note_key_used(box, key_used)
        key = dict(keys)[key_used]
        if self.storage.audio_record(box, reference) is None:
            raise Refusal(409, {"audio": reference, "error": "unknown-audio"})
        try:
            done = self._stored(reference, sha256)
        except Refusal as exc:
            exc.headers.update(_signed(key, exc.doc, self.settings))
            raise
        if done is not None:
            # Read and dropped: the box has sent it anyway, and an unread body would reset
            # the connection under the answer that tells the box it is done.
            read_body(environ, length, limits.body_timeout_s)
            return done, key
        held = self.files.held(box, reference)
        if held != offset:  # not where HQ's part ends: the box goes on from HQ's count
            raise Refusal(416, {"audio": reference, "error": "offset", "received": held})
        body = read_body(environ, length, limits.body_timeout_s)
        try:
            held = self.files.append(box, reference, offset, body)
        except OffsetMismatch as exc:
            raise Refusal(416, {"audio": reference, "error": "offset",
                                 "received": exc.held}) from exc
        if len(body) != length:
            self.receiver.count("audio-cut")
            return {"error": "incomplete-body", "received": held}, b""
        if held < size:
            return {"audio": reference, "received": held}, key
        relative = self.files.finish(box, reference, size, sha256)
        if relative is None:
            self.receiver.count("audio-sha256-mismatch")
            raise Refusal(422, {"audio": reference, "error": "sha256-mismatch"})
        status = self.storage.store_audio(box, reference, relative, size, sha256, fmt,
                                          self.receiver.now_utc())
        if status == "conflict":
            raise Refusal(409, {"audio": reference, "error": "conflict"},
                           _signed(key, {"audio": reference, "error": "conflict"},
                                   self.settings))
        return {"audio": reference, "status": status, "sha256": sha256, "bytes": size,
                "received": size}, key

    # -- GET /v1/audio/<reference> -----------------------------------------------------------
    def held(self, text: str, headers: Any) -> tuple[dict[str, Any], bytes]:
        box, keys = self.receiver.box_of(headers)
        reference = self._reference(box, text)
        stamp = self.receiver.stamp_of(headers)
        key = self.receiver.matching_key(keys, lambda k: sign(k, stamp, reference.encode()),
                                      headers.get(HEADER_SIGNATURE, ""))
        if key is None:
            raise Refusal(401, {"error": "bad-signature"})
        self.receiver.check_fresh(stamp)
        stored = self.storage.audio_file(reference)
        if stored is None and self.storage.audio_record(box, reference) is None:
            raise Refusal(409, {"audio": reference, "error": "unknown-audio"})
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


def add_audio_routes(app: bottle.Bottle, receiver: Authenticating, settings: HqSettings) -> None:
    assert settings.audio_dir is not None
    audio = AudioReceiver(receiver, AudioFiles(settings.audio_dir))

    @app.route(AUDIO_PATH + "<reference:path>", method=["PUT", "POST"])
    def put(reference: str) -> str:
        environ = bottle.request.environ
        started = time.monotonic()
        try:
            doc, key = audio.put(reference, environ, Headers(environ))
        except Refusal as exc:
            receiver.count(exc.doc.get("error", "refused"))
            if not environ.get("edgecall.body_read"):
                stop_reading(environ)
            status, doc, answer = exc.status, exc.doc, json_reply(exc.status, exc.doc, exc.headers)
        else:
            status = 400 if "error" in doc else 200
            answer = json_reply(status, doc, key=key or None, wall=settings.wall)
        log.info("audio box=%s reference=%s offset=%s bytes=%s result=%s ms=%d",
                 Headers(environ).get("X-Edgecall-Box", "-")[:40], unquote(reference)[:200],
                 Headers(environ).get(HEADER_OFFSET, "-")[:20], doc.get("received", "-"),
                 doc.get("status") or doc.get("error") or "part",
                 (time.monotonic() - started) * 1000)
        return answer

    @app.get(AUDIO_PATH + "<reference:path>")
    def held(reference: str) -> str:
        try:
            doc, key = audio.held(reference, Headers(bottle.request.environ))
            return json_reply(200, doc, key=key, wall=settings.wall)
        except Refusal as exc:
            receiver.count(exc.doc.get("error", "refused"))
            return json_reply(exc.status, exc.doc, exc.headers)


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
            return json_reply(404, {"error": "not-found"})
        bottle.response.set_header("Cache-Control", "private, max-age=86400")
        return bottle.static_file(relative, root=str(files.root), mimetype="audio/ogg")
