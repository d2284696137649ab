"""Batch signatures: HMAC-SHA256 over "<timestamp>." + body with the box's secret."""

from __future__ import annotations

import hashlib
import hmac

HEADER_BOX = "X-Edgecall-Box"
HEADER_BATCH = "X-Edgecall-Batch"
HEADER_TIMESTAMP = "X-Edgecall-Timestamp"  # Unix time in milliseconds, decimal
HEADER_SIGNATURE = "X-Edgecall-Signature"  # "v1=" + lowercase hex
HEADER_OFFSET = "X-Edgecall-Offset"  # a resumed upload: the body is the batch from here on
CONTENT_TYPE = "application/vnd.edgecall.batch"


def sign(secret: bytes, timestamp_ms: int, body: bytes) -> str:
    mac = hmac.new(secret, str(timestamp_ms).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    if not timestamp.isdigit():
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)

# Request authentication, checked by HQ BEFORE it reads a body: it binds the box, the batch,
# the resume offset and the body's length to the timestamp, so that HQ spends nothing on an
# upload from anyone but the box (sync/PROTOCOL.md, "Posting a batch").
HEADER_AUTH = "X-Edgecall-Auth"


def request_auth(secret: bytes, timestamp_ms: int, box: str, batch_id: str, offset: int,
                 length: int) -> str:
    text = f"{timestamp_ms}.{box}.{batch_id}.{offset}.{length}"
    return "v1=" + hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


def signed_get(secret: bytes, timestamp_ms: int, box: str, path: str) -> dict[str, str]:
    """Headers of a GET only the box may make (survey packs): signed over the path."""
    return {HEADER_BOX: box, HEADER_TIMESTAMP: str(timestamp_ms),
            HEADER_SIGNATURE: sign(secret, timestamp_ms, path.encode())}


# Recordings (sync/PROTOCOL.md, "Recordings"): the link copy travels in chunks; each chunk's
# request authenticates the box, the recording, the chunk's place and the whole file's size,
# SHA-256 and format, so HQ checks the joined bytes against a digest only the box can name.
HEADER_AUDIO_SIZE = "X-Edgecall-Audio-Size"
HEADER_AUDIO_SHA256 = "X-Edgecall-Audio-Sha256"
HEADER_AUDIO_FORMAT = "X-Edgecall-Audio-Format"
AUDIO_CONTENT_TYPE = "audio/ogg"


def audio_auth(secret: bytes, timestamp_ms: int, box: str, reference: str, offset: int,
               length: int, size: int, sha256: str, fmt: str) -> str:
    text = f"{timestamp_ms}.{box}.{reference}.{offset}.{length}.{size}.{sha256}.{fmt}"
    return "v1=" + hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()
