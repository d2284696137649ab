"""HQ's signed replies (sync/PROTOCOL.md, "Replies HQ signs"): only HQ, holding the box's
secret, can make the box take a 409 as "already committed"."""

from __future__ import annotations

import hashlib

from sync._hq_proof import committed_reply, proves_committed, signature_ok, signed

SECRET = b"box-1-secret-for-tests"
BATCH = b"\xfd7zXZ\x00 the batch bytes"
SHA = hashlib.sha256(BATCH).hexdigest()


def test_hq_signed_committed_reply_proves_these_bytes():
    headers, body = committed_reply(SECRET, 1_795_862_400_123, "box-1.abc.hq.7", SHA)
    assert body == (b'{"batch":"box-1.abc.hq.7","sha256":"' + SHA.encode()
                    + b'","status":"duplicate"}')
    assert signed(headers) and signature_ok(headers, body, SECRET)
    assert proves_committed(headers, body, "box-1.abc.hq.7", BATCH, SECRET)


def test_anything_else_proves_nothing():
    headers, body = committed_reply(SECRET, 1, "box-1.abc.hq.7", SHA)
    assert not proves_committed(headers, body, "box-1.abc.hq.8", BATCH, SECRET)  # other batch
    assert not proves_committed(headers, body, "box-1.abc.hq.7", BATCH + b"x", SECRET)  # bytes
    assert not proves_committed(headers, body, "box-1.abc.hq.7", BATCH, b"other-secret")
    assert not proves_committed({}, body, "box-1.abc.hq.7", BATCH, SECRET)  # unsigned
    tampered = body.replace(b"duplicate", b"stored!!!")
    assert not proves_committed(headers, tampered, "box-1.abc.hq.7", BATCH, SECRET)
    forged, same = committed_reply(b"a-middlebox-guess", 1, "box-1.abc.hq.7", SHA)
    assert signed(forged) and not proves_committed(forged, same, "box-1.abc.hq.7", BATCH,
                                                   SECRET)
