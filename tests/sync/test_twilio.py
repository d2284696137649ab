"""Twilio Sync sink against the stand-in (its own limits: tests/support/test_twilio.py)."""

from __future__ import annotations

import base64

import pytest

from edge.records import canonical_json
from sync._batching import Backoff
from sync._runner import drain
from sync._twilio import TwilioSink
from sync.codec import decode_batch
from tests.support import FaultProxy, TwilioSyncStandIn, random_plan

from .helpers import ledger_for, outbox_records

IS, SK, SECRET = "IS" + "0" * 32, "SK" + "1" * 32, "twilio-secret"
MAPS = ("m0", "m1", "m2")
FAST = Backoff(base_s=0.01, cap_s=0.05)


@pytest.fixture
def twilio():
    server = TwilioSyncStandIn(IS, SK, SECRET, MAPS, writes_per_window=4, window_s=0.5)
    yield server
    server.close()


def _sink(url, secret=SECRET, rate=20.0):
    return TwilioSink(url, IS, SK, secret, MAPS, writes_per_s=rate, read_timeout_s=0.5)


def _records_in(server) -> dict[tuple[str, int], str]:
    got: dict[tuple[str, int], str] = {}
    for items in server.items.values():
        for key, data in items.items():
            batch = decode_batch(base64.b64decode(data["b64"]))
            assert batch["batch"] == key
            for r in batch["records"]:
                assert (r.id, r.version) not in got  # each record in one item only
                got[(r.id, r.version)] = canonical_json(r.body)
    return got


def _drain(store, url, **kw):
    ledger = ledger_for(store, sink="twilio", max_records=10_000, max_bytes=kw.pop("max_bytes",
                                                                                  2048))
    return ledger, drain(ledger, _sink(url, **kw), wait=lambda s: False, max_wait_s=10**6,
                         backoff=FAST)


def test_batches_fit_16k_spread_over_maps_and_arrive_once(filled, twilio):
    store, _ = filled
    _ledger, report = _drain(store, twilio.url, max_bytes=11 * 1024)
    assert report.done and not report.parked
    assert _records_in(twilio) == outbox_records(store)
    assert store.reads.backlog() == 0


def test_rate_limit_429_is_backed_off_not_parked(filled, twilio):
    store, _ = filled
    twilio.writes_per_window, twilio.window_s = 2, 1.0
    _ledger, report = _drain(store, twilio.url, rate=1000.0, max_bytes=1200)  # no pacing
    assert twilio.stats.get("error-54009", 0) > 0
    assert report.done and not report.parked
    assert sum(len(items) for items in twilio.items.values()) > 3
    assert all(items for items in twilio.items.values())  # every Map used
    assert _records_in(twilio) == outbox_records(store)


def test_faults_in_front_of_twilio_still_exactly_once(filled, twilio):
    store, _ = filled
    weights = {"pass": 3, "reset-after-commit": 2, "garbage": 1, "500": 1, "429": 1,
               "timeout-after-commit": 0.3, "portal": 0}
    proxy = FaultProxy(twilio.server_address[:2], random_plan(3, weights), hold_s=0.8,
                       retry_after=0)
    try:
        _ledger, report = _drain(store, proxy.url)
    finally:
        proxy.close()
    assert "reset-after-commit" in proxy.seen
    assert twilio.stats.get("error-54208", 0) > 0  # retried creates met their own items
    assert report.done and not report.parked
    assert _records_in(twilio) == outbox_records(store)


def test_different_data_under_our_key_is_a_reported_conflict(filled, twilio):
    store, _ = filled
    ledger = ledger_for(store, sink="twilio", max_bytes=2048)
    first = ledger.seal_next()
    twilio.items[MAPS[first.seq % 3]][first.batch_id] = {"something": "else"}
    report = drain(ledger, _sink(twilio.url), wait=lambda s: False, max_wait_s=0,
                   backoff=FAST)
    assert report.parked == [first.batch_id]
    assert report.done  # later batches went on
    reason = store.query("SELECT reason FROM sync_batches WHERE batch_id = ?",
                         [first.batch_id])[0]["reason"]
    assert reason.startswith("conflict")
    assert ledger.acked_seq() == 0  # the parked batch holds the cursor back


def test_wrong_secret_stops_without_parking(filled, twilio):
    store, _ = filled
    _ledger, report = _drain(store, twilio.url, secret="wrong")
    assert not report.done and not report.parked and "401" in report.last_error

