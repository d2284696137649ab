"""The reference receiver refuses forged, stale and replayed batches and dedupes records."""

from __future__ import annotations

import json
import time

import requests

from sync._signing import (
    HEADER_AUTH,
    HEADER_BATCH,
    HEADER_BOX,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    request_auth,
    sign,
)

from ..conftest import SECRET
from ..helpers import hq_records, ledger_for


def _post(hq, body, batch_id, stamp_ms=None, secret=SECRET, box="box-1", signature=None):
    stamp_ms = int(time.time() * 1000) if stamp_ms is None else stamp_ms
    headers = {HEADER_BOX: box, HEADER_BATCH: batch_id, HEADER_TIMESTAMP: str(stamp_ms),
               HEADER_SIGNATURE: signature or sign(secret, stamp_ms, body),
               HEADER_AUTH: request_auth(secret, stamp_ms, box, batch_id, 0, len(body))}
    return requests.post(hq.url + "/v1/batches", data=body, headers=headers, timeout=10)


def _sealed(filled):
    store, _ = filled
    batch = ledger_for(store).seal_next()
    assert batch is not None
    return batch


def test_good_batch_is_stored_then_acknowledged_as_duplicate(filled, hq):
    batch = _sealed(filled)
    first = _post(hq, batch.body, batch.batch_id)
    assert first.status_code == 200
    assert first.json() == {"batch": batch.batch_id, "status": "stored",
                            "records": batch.records, "new": batch.records}
    again = _post(hq, batch.body, batch.batch_id)  # a retry: new timestamp, same bytes
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert again.json()["new"] == 0
    assert len(hq_records(hq.storage)) == batch.records


def test_acknowledgements_are_signed_with_the_box_key(filled, hq):
    from sync._hq_proof import signature_ok

    batch = _sealed(filled)
    response = _post(hq, batch.body, batch.batch_id)
    assert response.status_code == 200
    assert signature_ok(response.headers, response.content, SECRET)
    assert not signature_ok(response.headers, response.content, b"another-secret-xxxx")


def test_forged_signature_is_refused(filled, hq):
    batch = _sealed(filled)
    response = _post(hq, batch.body, batch.batch_id, secret=b"not the box's secret")
    assert response.status_code == 401 and response.json()["error"] == "bad-signature"
    tampered = bytearray(batch.body)
    tampered[-5] ^= 1
    stamp = int(time.time() * 1000)
    response = _post(hq, bytes(tampered), batch.batch_id, stamp,
                     signature=sign(SECRET, stamp, batch.body))
    assert response.status_code == 401
    assert hq.storage.count() == 0


def test_unknown_box_is_refused(filled, hq):
    batch = _sealed(filled)
    response = _post(hq, batch.body, batch.batch_id, box="box-9")
    assert response.status_code == 401 and response.json()["error"] == "unknown-box"


def test_stale_and_future_timestamps_are_refused(filled, hq):
    batch = _sealed(filled)
    now = int(time.time() * 1000)
    for stamp in (now - 3_600_000, now + 3_600_000):
        response = _post(hq, batch.body, batch.batch_id, stamp)
        assert response.status_code == 401
        assert response.json()["error"] == "stale-timestamp"
        assert "Date" in response.headers  # lets a box with a wrong clock correct itself
    assert hq.storage.count() == 0


def test_replayed_request_is_refused(filled, hq):
    batch = _sealed(filled)
    stamp = int(time.time() * 1000)
    assert _post(hq, batch.body, batch.batch_id, stamp).status_code == 200
    replay = _post(hq, batch.body, batch.batch_id, stamp)
    assert replay.status_code == 401 and replay.json()["error"] == "replay"


def test_malformed_body_and_header_mismatch(filled, hq):
    batch = _sealed(filled)
    response = _post(hq, b"\xfd7zXZ\x00 not really xz", "x")
    assert response.status_code == 400
    response = _post(hq, batch.body, batch.batch_id + "-other")
    assert response.status_code == 422
    assert hq.storage.count() == 0


def test_export_json_and_csv(filled, hq, tmp_path):
    from sync.hq import export_records

    batch = _sealed(filled)
    assert _post(hq, batch.body, batch.batch_id).status_code == 200
    out = tmp_path / "answers.json"
    count = export_records(hq.storage, "json", out, kind="answer")
    doc = json.loads(out.read_text())
    assert count == len(doc) > 0 and all(r["kind"] == "answer" for r in doc)
    csv_out = tmp_path / "answers.csv"
    export_records(hq.storage, "csv", csv_out, kind="answer")
    lines = csv_out.read_text().splitlines()
    assert len(lines) == count + 1
    assert "value" in lines[0].split(",") and "caller" not in lines[0]


def test_body_only_signatures_need_the_deployments_consent(filled, hq):
    """Boxes older than X-Edgecall-Auth are refused unless hq.toml says body_only_auth."""
    batch = _sealed(filled)
    stamp = int(time.time() * 1000)
    headers = {HEADER_BOX: "box-1", HEADER_BATCH: batch.batch_id, HEADER_TIMESTAMP: str(stamp),
               HEADER_SIGNATURE: sign(SECRET, stamp, batch.body)}
    refused = requests.post(hq.url + "/v1/batches", data=batch.body, headers=headers, timeout=10)
    assert refused.status_code == 401 and refused.json()["error"] == "bad-signature"
    hq.settings.body_only_auth = True
    headers[HEADER_TIMESTAMP] = str(stamp + 1)
    headers[HEADER_SIGNATURE] = sign(SECRET, stamp + 1, batch.body)
    taken = requests.post(hq.url + "/v1/batches", data=batch.body, headers=headers, timeout=10)
    assert taken.status_code == 200 and taken.json()["status"] == "stored"
