"""Proof that a reply comes from HQ: a signature with the box's own secret.

Anything between the box and HQ (a captive portal, a proxy, a hostile middlebox) can answer a
POST; only HQ holds the box's ``hq_secret``. A reply that would make the box forget a batch is
taken as such only when HQ signed it (sync/PROTOCOL.md, "Replies HQ signs"):

- ``409`` "already committed": ``{"batch", "status": "duplicate", "sha256"}``, signed, naming
  this batch and the SHA-256 of this batch's bytes: HQ proves it holds exactly these bytes;
- a ``2xx`` acknowledgement *may* be signed the same way; when it carries a signature, the
  signature must verify (a forged one is refused), so HQ can make its acks unforgeable
  without breaking boxes or receivers that do not sign.

The signature is the batch signature's (``"<timestamp>." + body``, HMAC-SHA256) over the
reply's body, in the reply's ``X-Edgecall-Timestamp`` / ``X-Edgecall-Signature`` headers. The
timestamp is not checked against a window: the statement "HQ holds batch X with SHA-256 Y" stays
true, so a replayed genuine reply is still a true one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from ._signing import HEADER_SIGNATURE, HEADER_TIMESTAMP, sign, verify


def signed(headers: Mapping[str, str]) -> bool:
    """Does the reply claim to be signed by HQ?"""
    return bool(headers.get(HEADER_SIGNATURE))


def signature_ok(headers: Mapping[str, str], body: bytes, secret: bytes) -> bool:
    return verify(secret, headers.get(HEADER_TIMESTAMP, ""), body,
                  headers.get(HEADER_SIGNATURE, ""))


def proves_committed(headers: Mapping[str, str], body: bytes, batch_id: str,
                     batch_body: bytes, secret: bytes) -> bool:
    """True when the reply is HQ's signed statement that it committed these very bytes under
    ``batch_id``."""
    if not signature_ok(headers, body, secret):
        return False
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    return (isinstance(doc, dict) and doc.get("batch") == batch_id
            and doc.get("status") == "duplicate"
            and doc.get("sha256") == hashlib.sha256(batch_body).hexdigest())


def committed_reply(secret: bytes, stamp_ms: int, batch_id: str,
                    sha256: str) -> tuple[dict[str, str], bytes]:
    """HQ's side: the headers and body of the signed 409 "already committed" reply (used by
    tests and by any receiver written in Python)."""
    body = json.dumps({"batch": batch_id, "status": "duplicate", "sha256": sha256},
                      separators=(",", ":"), sort_keys=True).encode()
    return ({"Content-Type": "application/json", HEADER_TIMESTAMP: str(stamp_ms),
             HEADER_SIGNATURE: sign(secret, stamp_ms, body)}, body)
