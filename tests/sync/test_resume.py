"""Resuming an upload the link cut (sync/PROTOCOL.md, "Resuming"): HQ keeps the part it got,
the box sends only the rest, and a resume that cannot continue falls back to the whole
batch. Exactly once throughout."""

from __future__ import annotations

import time

import requests

from sync._batching import ACK, Backoff
from sync._hq import HqSink
from sync._ledger import Batch
from sync._runner import drain
from sync._signing import (
    HEADER_AUTH,
    HEADER_BATCH,
    HEADER_BOX,
    HEADER_OFFSET,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    request_auth,
    sign,
)
from tests.support import FaultProxy, scripted_plan

from .conftest import SECRET
from .helpers import assert_exactly_once, ledger_for

FAST = Backoff(base_s=0.01, cap_s=0.05)


def _drain(store, url, max_records=400):
    ledger = ledger_for(store, max_records=max_records)
    sink = HqSink(url + "/v1/batches", "box-1", SECRET, read_timeout_s=2)
    report = drain(ledger, sink, wait=lambda _s: False, max_wait_s=10**6, backoff=FAST)
    return sink, report


def _drain_through_fault(store, hq, fault: str):
    """One batch drained to HQ through a proxy that applies ``fault`` to the first request."""
    proxy = FaultProxy(hq.address, scripted_plan([fault]))
    try:
        return _drain(store, proxy.url, max_records=10_000)
    finally:
        proxy.close()


def test_cut_upload_is_resumed_not_resent(filled, hq):
    store, _ = filled
    sink, report = _drain_through_fault(store, hq, "cut-upload")
    assert report.done and report.failures == 1
    assert sink.resumed == 1
    assert_exactly_once(store, hq.storage)
    assert hq.settings.stats.get("resume-mismatch", 0) == 0
    (size,) = store.db.execute("SELECT size FROM sync_batches").fetchone()
    # The cut POST carried it all; the resumed one only the half HQ did not have.
    assert sink.bytes_sent == size + (size - size // 2)


def test_resume_after_hq_lost_the_part_sends_everything(filled, hq):
    store, _ = filled
    proxy = FaultProxy(hq.address, scripted_plan(["cut-upload"]))
    try:
        ledger = ledger_for(store, max_records=400)
        sink = HqSink(proxy.url + "/v1/batches", "box-1", SECRET, read_timeout_s=2)
        batch = ledger.seal_next()
        assert batch is not None
        assert sink.send(batch).kind != ACK  # cut
        hq.storage.drop_partial("box-1", batch.batch_id)  # HQ restarted: the part is gone
        outcome = sink.send(batch)
    finally:
        proxy.close()
    assert outcome.kind == ACK and sink.resumed == 0
    assert sink.bytes_sent == len(batch.body) + len(batch.body)  # whole, twice (first cut)


def _post(url: str, batch: Batch, offset: int, part: bytes, stamp: int = 0) -> requests.Response:
    stamp = stamp or int(time.time() * 1000)
    return requests.post(url, data=part, headers={
        HEADER_BOX: "box-1", HEADER_BATCH: batch.batch_id, HEADER_TIMESTAMP: str(stamp),
        HEADER_SIGNATURE: sign(SECRET, stamp, batch.body), HEADER_OFFSET: str(offset),
        HEADER_AUTH: request_auth(SECRET, stamp, "box-1", batch.batch_id, offset, len(part))},
        timeout=5)


def test_receiver_refuses_a_resume_it_cannot_continue(filled, hq):
    store, _ = filled
    batch = ledger_for(store, max_records=400).seal_next()
    assert batch is not None
    url = hq.url + "/v1/batches"
    half = len(batch.body) // 2
    # Nothing held: 416 with the count (0), nothing stored.
    response = _post(url, batch, half, batch.body[half:])
    assert response.status_code == 416 and response.json()["received"] == 0
    # A held part that is not the batch's (forged or corrupt): 416 from 0, never stored,
    # and never "bad-signature" (which would stop the box's sink).
    hq.storage.keep_partial("box-1", batch.batch_id, b"\0" * half, time.time())
    response = _post(url, batch, half, batch.body[half:])
    assert response.status_code == 416 and response.json()["received"] == 0
    assert hq.storage.count() == 0
    # The right part: stored.
    hq.storage.keep_partial("box-1", batch.batch_id, batch.body[:half], time.time())
    response = _post(url, batch, half, batch.body[half:])
    assert response.status_code == 200 and response.json()["status"] == "stored"
    assert hq.storage.count() == batch.records


def test_held_count_needs_the_box_signature(filled, hq):
    store, _ = filled
    batch = ledger_for(store, max_records=400).seal_next()
    assert batch is not None
    hq.storage.keep_partial("box-1", batch.batch_id, batch.body[:100], time.time())
    url = f"{hq.url}/v1/batches/{batch.batch_id}"
    stamp = int(time.time() * 1000)
    good = {HEADER_BOX: "box-1", HEADER_TIMESTAMP: str(stamp),
            HEADER_SIGNATURE: sign(SECRET, stamp, batch.batch_id.encode())}
    assert requests.get(url, headers=good, timeout=5).json() == {
        "batch": batch.batch_id, "received": 100}
    forged = {**good, HEADER_SIGNATURE: sign(b"wrong-secret-xxxxxxx", stamp,
                                             batch.batch_id.encode())}
    assert requests.get(url, headers=forged, timeout=5).status_code == 401


def test_answer_lost_after_commit_is_acknowledged_without_sending_again(filled, hq):
    store, _ = filled
    sink, report = _drain_through_fault(store, hq, "reset-after-commit")
    assert report.done and report.failures == 1
    (size,) = store.db.execute("SELECT size FROM sync_batches").fetchone()
    assert sink.bytes_sent == size  # HQ named the batch's SHA-256: not uploaded twice
    assert hq.settings.stats.get("duplicate", 0) == 0 and hq.settings.stats["stored"] == 1
    assert_exactly_once(store, hq.storage)


def test_a_committed_batch_with_other_bytes_is_sent_again(filled, hq):
    """Only HQ's copy of these very bytes counts as an acknowledgement."""
    store, _ = filled
    batch = ledger_for(store, max_records=400).seal_next()
    assert batch is not None
    sink = HqSink(hq.url + "/v1/batches", "box-1", SECRET)
    with hq.storage._tx() as tx:
        tx.execute("INSERT INTO batches (batch_id, box, sha256, records, new_records,"
                   " received_utc) VALUES (?, 'box-1', ?, 0, 0, 'x')",
                   [batch.batch_id, "0" * 64])
    sink._cut.add(batch.batch_id)  # as after a broken upload
    assert sink.send(batch).kind == ACK
    assert sink.bytes_sent == len(batch.body)
    assert hq.storage.count() == batch.records
