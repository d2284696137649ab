"""Twilio Sync sink against the stand-in (its own limits: tests/support/test_twilio.py)."""

from __future__ import annotations

import base64

import pytest

from edge.records import canonical_json
from sync._batching import Backoff
from sync._runner import drain
from sync._twilio import TwilioSink
from sync.codec import decode_batch
from tests.support import FaultProxy, TwilioSyncStandIn, random_plan, scripted_plan

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



@pytest.mark.parametrize("fault", ["html-200", "302", "409", "json-201", "portal"])
def test_middlebox_replies_never_acknowledge_and_never_park(filled, twilio, fault):
    store, _ = filled
    proxy = FaultProxy(twilio.server_address[:2], scripted_plan([fault, fault]))
    try:
        _ledger, report = _drain(store, proxy.url)
    finally:
        proxy.close()
    assert report.done and not report.parked and report.failures == 2
    assert "/portal" not in twilio.paths  # a redirect is never followed
    assert _records_in(twilio) == outbox_records(store)  # nothing lost, nothing twice


def test_409_54208_acknowledges_only_once_the_fetched_item_is_ours(filled, twilio):
    store, _ = filled
    ledger = ledger_for(store, sink="twilio", max_bytes=2048)
    first = ledger.seal_next()
    sink = _sink(twilio.url)
    assert sink.send(first).kind == "ack"
    # The create went through; its answer was lost; the retry meets 54208 and fetches.
    again = sink.send(first)
    assert (again.kind, again.reason) == ("ack", "duplicate")
    twilio.items[MAPS[first.seq % 3]][first.batch_id]["n"] += 1  # not our data any more
    assert sink.send(first).kind == "conflict"


def test_item_data_limit_follows_from_16_kib():
    import os

    from sync._ledger import Batch
    from sync._twilio_item import MAX_DATA, item_data, max_batch_bytes
    from sync.config import TWILIO

    limit = max_batch_bytes()
    widest = "b" * 32 + ".abcdef.twilio." + "9" * 19

    def data_len(size: int) -> int:
        batch = Batch("twilio", 10**19 - 1, widest, 2**63 - 1, 2**63 - 1, 100_000,
                      os.urandom(size), 0)
        return len(item_data(batch).encode())

    assert data_len(limit) <= MAX_DATA < data_len(limit + 1)
    assert limit == 12168
    base = {"service_sid": IS, "api_key_sid": SK}
    assert TWILIO.parse({**base, "batch_max_bytes": limit})[1] == []
    problems = TWILIO.parse({**base, "batch_max_bytes": 12288})[1]  # was the allowed max
    assert [p.key for p in problems] == ["twilio.batch_max_bytes"]


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def mono(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize("rate", [20.0, 15.0, 15.5, 1.0, 0.5])
def test_never_more_writes_per_map_in_one_second_than_allowed(rate):
    import math

    clock = _Clock()
    sink = TwilioSink("http://127.0.0.1:9", IS, SK, SECRET, MAPS, writes_per_s=rate,
                      mono=clock.mono, sleep=clock.sleep)
    sent: list[float] = []
    for i in range(120):
        sink.pacer.wait("m0")
        sent.append(clock.now)
        if i % 7 == 0:
            clock.now += 0.013  # the request itself takes a while
    allowed = max(1, math.floor(rate)) if rate >= 1 else 1
    window = 1.0 if rate >= 1 else 1 / rate
    # Any closed window of `window` seconds holds at most `allowed` writes (Twilio: 20/s).
    most = max(sum(1 for t in sent if start <= t <= start + window) for start in sent)
    assert most == allowed
    assert sent[-1] - sent[0] < 120 / allowed * window * 1.05  # and not much slower


def test_account_sid_and_auth_token_are_accepted_as_credentials(filled, tmp_path):
    from edge.config import load_config
    from edge.plugins import all_sections
    from sync._setup import build_channels

    store, _ = filled
    account, token = "AC" + "3" * 32, "a" * 32
    server = TwilioSyncStandIn(IS, SK, SECRET, MAPS, account_sid=account, auth_token=token)
    config_path = tmp_path / "edgecall.toml"
    config_path.write_text(
        '[box]\nid = "box-1"\ndata_dir = "box"\nsecrets_file = "secrets.toml"\n'
        f'[twilio]\nservice_sid = "{IS}"\naccount_sid = "{account}"\n'
        f'maps = {list(MAPS)!r}\nbase_url = "{server.url}"\nbatch_max_bytes = 2048\n'
        .replace("'", '"'))
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'pseudonym_key = "{"ab" * 32}"\ntwilio_auth_token = "{token}"\n')
    secrets.chmod(0o600)
    try:
        (channel,) = build_channels(load_config(config_path, all_sections()), store.path)
        report = drain(channel.ledger, channel.sink, wait=lambda s: False, max_wait_s=10**6,
                       backoff=FAST)
        assert report.done and report.acked_records == len(outbox_records(store))
        assert _records_in(server) == outbox_records(store)
    finally:
        server.close()


def test_twilio_login_is_an_api_key_or_the_account_not_both():
    from sync.config import TWILIO

    both = {"service_sid": IS, "api_key_sid": SK, "account_sid": "AC" + "1" * 32}
    assert [p.key for p in TWILIO.parse(both)[1]] == ["twilio.api_key_sid"]
    assert [p.key for p in TWILIO.parse({"service_sid": IS})[1]] == ["twilio.api_key_sid"]
    assert TWILIO.parse({"service_sid": IS, "account_sid": "AC" + "1" * 32})[1] == []
    assert TWILIO.parse({"service_sid": IS, "account_sid": SK})[1] != []  # not an AC SID
