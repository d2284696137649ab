"""Recordings to HQ over HTTP (sync/PROTOCOL.md, "Recordings"): ask how much of a recording
HQ holds, send a chunk from there. ``classify_audio`` says what an answer means (pure);
:class:`HqAudio` is the thin adapter, on the HQ sink's session, key and clock offset."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

import requests

from ._audio_codec import LinkCopy
from ._batching import _server_epoch, parse_retry_after
from ._hq import HqSink, base_url
from ._hq_proof import signature_ok, signed
from ._signing import (
    AUDIO_CONTENT_TYPE,
    HEADER_AUDIO_FORMAT,
    HEADER_AUDIO_SHA256,
    HEADER_AUDIO_SIZE,
    HEADER_AUTH,
    HEADER_BOX,
    HEADER_OFFSET,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    audio_auth,
    sign,
)
from ._words import classify_transport

AUDIO_PATH = "/v1/audio/"

# What an answer means for the upload of one recording.
STORED = "stored"  # HQ holds the whole file with our SHA-256 (signed by HQ): done
MORE = "more"  # HQ holds ``received`` bytes: go on from there
RESTART = "restart"  # HQ's joined bytes did not match the SHA-256; it dropped them: from 0
WAIT = "wait"  # HQ takes no recordings (404): every one waits for a later run
UNKNOWN = "unknown"  # HQ has no record of this one (yet): the others go on
CONFLICT = "conflict"  # HQ holds other bytes under this reference, or refuses it for good
AUTH = "auth"  # credentials refused: stop this sink's recordings
RETRY = "retry"  # transient (the link, a portal, 5xx, a stale stamp): later


@dataclass(frozen=True, slots=True)
class AudioAnswer:
    kind: str
    received: int = 0
    reason: str = ""
    retry_after_s: float | None = None
    server_epoch: float | None = None


def _doc(body: bytes) -> dict[str, object]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}


def classify_audio(status: int, headers: Mapping[str, str], body: bytes, reference: str,
                   copy: LinkCopy, secret: bytes, now_epoch: float, who: str = "HQ"
                   ) -> AudioAnswer:
    """What HQ's answer to a recording's GET or chunk means. Only a reply signed with the
    box's key, naming the recording and our SHA-256, confirms it: anything on the path can
    answer 200."""
    doc = _doc(body)
    genuine = signed(headers) and signature_ok(headers, body, secret)
    if signed(headers) and not genuine:
        return AudioAnswer(RETRY, reason=f"{who} answered {status} with a signature that is "
                           "not HQ's (a middlebox?)")
    received = doc.get("received")
    count = received if type(received) is int and received >= 0 else None
    if status == 200 and doc.get("audio") == reference:
        if doc.get("status") in ("stored", "duplicate"):
            if genuine and doc.get("sha256") == copy.sha256:
                return AudioAnswer(STORED, copy.size, str(doc["status"]))
            return AudioAnswer(RETRY, reason=f"{who} answered stored without HQ's signature "
                               "or with another SHA-256")
        if count is not None and count < copy.size:
            return AudioAnswer(MORE, count)
    if 200 <= status < 400:
        return AudioAnswer(RETRY, reason=f"{who} answered {status} without news of the "
                           "recording (a captive portal?)")
    error = str(doc.get("error", ""))
    if status == 416 and count is not None:
        return AudioAnswer(MORE, min(count, copy.size), "offset")
    if status == 422 and error == "sha256-mismatch":
        return AudioAnswer(RESTART, 0, "HQ's copy did not match the SHA-256; sending it again")
    if status == 409 and error == "unknown-audio":
        return AudioAnswer(UNKNOWN, reason=f"{who} has no record of this recording yet")
    if status == 409 and genuine:
        return AudioAnswer(CONFLICT, reason=f"HQ holds other bytes under this reference "
                           f"({str(doc.get('sha256', ''))[:16]}...)")
    if status == 404:
        return AudioAnswer(WAIT, reason=f"{who} takes no recordings (404)")
    if status in (401, 403):
        if error in ("stale-timestamp", "replay"):
            return AudioAnswer(RETRY, reason=f"HTTP {status} {error}",
                               server_epoch=_server_epoch(headers))
        return AudioAnswer(AUTH, reason=f"HTTP {status} {error}".strip())
    if status == 413:
        return AudioAnswer(CONFLICT, reason=f"HQ refuses a recording this large ({copy.size}"
                           " bytes)")
    if status in (429, 503):
        return AudioAnswer(RETRY, reason=f"{who} answered {status}",
                           retry_after_s=parse_retry_after(headers.get("Retry-After"),
                                                           now_epoch))
    return AudioAnswer(RETRY, reason=f"{who} answered {status} {error}".strip())


class HqAudio:
    """The recording side of the HQ sink: same session, key, clock offset and counters."""

    def __init__(self, sink: HqSink) -> None:
        self.sink = sink
        self.base = base_url(sink.url) + AUDIO_PATH

    def _url(self, reference: str) -> str:
        return self.base + quote(reference, safe="")

    def _answer(self, response: requests.Response, reference: str, copy: LinkCopy
                ) -> AudioAnswer:
        answer = classify_audio(response.status_code, response.headers, response.content,
                                reference, copy, self.sink.secret, self.sink.wall(),
                                self.sink.who)
        if answer.server_epoch is not None:
            self.sink.offset_s = answer.server_epoch - self.sink.wall()
        return answer

    def held(self, reference: str, copy: LinkCopy) -> AudioAnswer:
        """How much of ``reference`` HQ holds (STORED when all of it)."""
        stamp = self.sink._stamp()
        headers = {HEADER_BOX: self.sink.box_id, HEADER_TIMESTAMP: str(stamp),
                   HEADER_SIGNATURE: sign(self.sink.secret, stamp, reference.encode())}
        with self.sink._lock:
            self.sink.requests += 1
        try:
            response = self.sink.session.get(
                self._url(reference), headers=headers, timeout=self.sink.timeout,
                verify=self.sink.verify, allow_redirects=False)
        except (requests.RequestException, OSError) as exc:
            return _transport(exc, self.sink.who)
        return self._answer(response, reference, copy)

    def send(self, reference: str, copy: LinkCopy, offset: int, data: bytes) -> AudioAnswer:
        """``data``: the link copy's bytes from ``offset``."""
        stamp = self.sink._stamp()
        box = self.sink.box_id
        headers = {
            "Content-Type": AUDIO_CONTENT_TYPE, HEADER_BOX: box,
            HEADER_TIMESTAMP: str(stamp), HEADER_OFFSET: str(offset),
            HEADER_AUDIO_SIZE: str(copy.size), HEADER_AUDIO_SHA256: copy.sha256,
            HEADER_AUDIO_FORMAT: copy.format,
            HEADER_AUTH: audio_auth(self.sink.secret, stamp, box, reference, offset,
                                    len(data), copy.size, copy.sha256, copy.format),
        }
        with self.sink._lock:
            self.sink.requests += 1
            self.sink.bytes_sent += len(data)
        try:
            response = self.sink.session.put(
                self._url(reference), data=data, headers=headers, timeout=self.sink.timeout,
                verify=self.sink.verify, allow_redirects=False)
        except (requests.RequestException, OSError) as exc:
            return _transport(exc, self.sink.who)
        return self._answer(response, reference, copy)


def _transport(exc: BaseException, who: str) -> AudioAnswer:
    return AudioAnswer(RETRY, reason=classify_transport(exc, who).reason)
