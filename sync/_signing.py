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
