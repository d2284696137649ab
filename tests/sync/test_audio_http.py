"""What HQ's answers to a recording's chunk mean (pure): only HQ's signed answer naming the
recording and the copy's SHA-256 delivers it; portals, middleboxes and refusals do not."""

from __future__ import annotations

import json
from pathlib import Path

from sync import _audio_http as answers
from sync._audio_codec import LinkCopy
from sync._audio_http import classify_audio
from sync._signing import HEADER_SIGNATURE, HEADER_TIMESTAMP, sign

SECRET = b"box-1-secret-for-tests"
REF = "box-1.abc.7/message.wav"
COPY = LinkCopy(Path("x.opus"), 10_000, "ab" * 32)


def reply(doc: dict[str, object], key: bytes | None = SECRET) -> tuple[dict[str, str], bytes]:
    body = json.dumps(doc).encode()
    if key is None:
        return {}, body
    return {HEADER_TIMESTAMP: "1", HEADER_SIGNATURE: sign(key, 1, body)}, body


def kind(status: int, doc: dict[str, object], key: bytes | None = SECRET,
         extra: dict[str, str] | None = None) -> answers.AudioAnswer:
    headers, body = reply(doc, key)
    return classify_audio(status, {**headers, **(extra or {})}, body, REF, COPY, SECRET, 0.0)


def test_only_hqs_signed_answer_with_our_sha256_delivers() -> None:
    stored = {"audio": REF, "status": "stored", "sha256": COPY.sha256, "bytes": 10_000}
    assert kind(200, stored).kind == answers.STORED
    assert kind(200, {**stored, "status": "duplicate"}).kind == answers.STORED
    assert kind(200, stored, key=None).kind == answers.RETRY  # unsigned: anyone could
    assert kind(200, stored, key=b"another-key-entirely").kind == answers.RETRY
    assert kind(200, {**stored, "sha256": "cd" * 32}).kind == answers.RETRY


def test_counts_move_the_upload_on() -> None:
    assert kind(200, {"audio": REF, "received": 4096}) == answers.AudioAnswer(
        answers.MORE, 4096)
    assert kind(416, {"audio": REF, "error": "offset", "received": 100}).received == 100
    assert kind(422, {"audio": REF, "error": "sha256-mismatch"}).kind == answers.RESTART


def test_portals_and_middleboxes_are_retried() -> None:
    page = classify_audio(200, {}, b"<html>log in</html>", REF, COPY, SECRET, 0.0)
    assert page.kind == answers.RETRY and "captive portal" in page.reason
    assert kind(302, {}, key=None).kind == answers.RETRY
    assert kind(409, {"error": "conflict"}, key=None).kind == answers.RETRY  # not HQ's
    assert kind(503, {}, key=None, extra={"Retry-After": "7"}).retry_after_s == 7.0


def test_refusals() -> None:
    assert kind(409, {"audio": REF, "error": "conflict", "sha256": "cd" * 32}).kind \
        == answers.CONFLICT
    assert kind(409, {"audio": REF, "error": "unknown-audio"}, key=None).kind \
        == answers.UNKNOWN
    assert kind(404, {"error": "not-found"}, key=None).kind == answers.WAIT
    assert kind(401, {"error": "bad-signature"}, key=None).kind == answers.AUTH
    assert kind(401, {"error": "stale-timestamp"}, key=None).kind == answers.RETRY
    assert kind(413, {"error": "too-large"}, key=None).kind == answers.CONFLICT
