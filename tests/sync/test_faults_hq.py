"""Every fault mix between the box and HQ ends with HQ holding each record exactly once."""

from __future__ import annotations

import pytest

from sync._batching import Backoff
from sync._hq import HqSink
from sync._runner import drain
from tests.support import FAULTS, FaultProxy, random_plan, scripted_plan

from .conftest import SECRET
from .helpers import assert_exactly_once, ledger_for

FAST = Backoff(base_s=0.01, cap_s=0.05)


def _drain(store, url, waits=None, **kw):
    ledger = ledger_for(store, max_records=kw.pop("max_records", 60))
    sink = HqSink(url + "/v1/batches", "box-1", SECRET, read_timeout_s=0.5)

    def wait(delay: float) -> bool:
        if waits is not None:
            waits.append(delay)
        return False  # retry at once: the proxy's faults, not time, are under test

    return ledger, drain(ledger, sink, wait=wait, max_wait_s=10**6, backoff=FAST, **kw)


@pytest.mark.parametrize("fault", [f for f in FAULTS if f != "pass"])
def test_each_fault_then_recovery(filled, hq, fault):
    store, _ = filled
    proxy = FaultProxy(hq.address, scripted_plan([fault, fault]), hold_s=0.8)
    try:
        _ledger, report = _drain(store, proxy.url)
    finally:
        proxy.close()
    assert report.done and not report.parked
    assert_exactly_once(store, hq.storage)
    assert store.reads.backlog() == 0
    if fault not in ("trickle",):
        # Both injected faults were noticed, none taken as acks (after a broken connection
        # the second one may hit the box's question how much HQ holds: a failure too).
        assert report.failures == 2


@pytest.mark.parametrize("window", [1, 2])
def test_random_mix_of_all_faults(filled, hq, window):
    store, _ = filled
    weights = {f: 1.0 for f in FAULTS}
    weights["pass"] = 3.0
    weights["timeout-after-commit"] = 0.3  # each costs the client's read timeout
    proxy = FaultProxy(hq.address, random_plan(7, weights), hold_s=0.8,
                       retry_after=0)
    try:
        _ledger, report = _drain(store, proxy.url, max_records=25, window=window)
    finally:
        proxy.close()
    assert report.done
    assert set(proxy.seen) >= {"reset-after-commit", "garbage", "500", "429"}
    assert_exactly_once(store, hq.storage)


def test_retry_after_is_honoured(filled, hq):
    store, _ = filled
    proxy = FaultProxy(hq.address, scripted_plan(["429", "503"]), retry_after=7)
    waits: list[float] = []
    try:
        _drain(store, proxy.url, waits=waits, window=1)  # one batch at a time meets both
    finally:
        proxy.close()
    assert waits == [7.0, 7.0]
    assert_exactly_once(store, hq.storage)


def test_backoff_grows_while_hq_fails(filled, hq):
    store, _ = filled
    proxy = FaultProxy(hq.address, scripted_plan(["500"] * 6))
    waits: list[float] = []
    try:
        _drain(store, proxy.url, waits=waits, window=1)
    finally:
        proxy.close()
    assert len(waits) == 6
    assert waits[0] < waits[2] <= FAST.cap_s
    assert_exactly_once(store, hq.storage)


def test_hq_signed_409_acknowledges_a_forged_one_does_not(filled, hq):
    store, _ = filled
    # The first batch's answer is lost after HQ committed it; the retry meets HQ's signed
    # "already committed" 409 (a receiver that answers duplicates so): acknowledged.
    proxy = FaultProxy(hq.address, scripted_plan(["reset-after-commit", "hq-409"]),
                       secret=SECRET)
    try:
        _ledger, report = _drain(store, proxy.url, window=1)
    finally:
        proxy.close()
    assert report.done and report.failures == 1
    assert store.query("SELECT reason FROM sync_batches WHERE seq = 1")[0]["reason"] == \
        "duplicate"
    assert_exactly_once(store, hq.storage)


def test_a_409_signed_with_another_key_is_not_an_acknowledgement(filled, hq):
    store, _ = filled
    proxy = FaultProxy(hq.address, scripted_plan(["hq-409"]),
                       secret=b"not-the-box-secret")
    try:
        _ledger, report = _drain(store, proxy.url, window=1)
    finally:
        proxy.close()
    assert report.done and report.failures == 1  # retried; HQ's own 200 "duplicate" acked it
    assert "without HQ's signed proof" in store.query(
        "SELECT last_error FROM sync_sinks")[0]["last_error"]
    assert_exactly_once(store, hq.storage)


def test_a_captive_portal_redirect_is_retried_in_words_never_followed(filled, hq, caplog):
    store, _ = filled
    proxy = FaultProxy(hq.address, scripted_plan(["302", "302"]))
    try:
        with caplog.at_level("INFO", logger="sync"):
            _ledger, report = _drain(store, proxy.url, window=1)
    finally:
        proxy.close()
    assert report.done and not report.parked and report.failures == 2
    host = f"127.0.0.1:{proxy.server_address[1]}"
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert retries and retries[0].startswith(
        f"hq: HQ {host} answered 302 (a captive portal?) redirecting to http://{host}/portal;"
        " retrying batch box-1.")
    assert not any(r.exc_info for r in caplog.records)
    assert_exactly_once(store, hq.storage)
