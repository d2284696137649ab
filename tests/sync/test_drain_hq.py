from __future__ import annotations

from sync._hq import HqSink
from sync._runner import drain

from .conftest import SECRET
from .helpers import assert_exactly_once, ledger_for
from .helpers import dump as helpers_dump


def test_drain_delivers_every_record_once_and_moves_the_cursor(filled, hq):
    store, _sim = filled
    ledger = ledger_for(store)
    sink = HqSink(hq.url + "/v1/batches", "box-1", SECRET)
    report = drain(ledger, sink, wait=lambda s: False, max_wait_s=0)
    assert report.done and not report.parked
    assert report.acked_records == len(store.reads.outbox_after(0, 10**6))
    assert_exactly_once(store, hq.storage)
    assert ledger.acked_seq() == store.reads.outbox_after(0, 10**6)[-1].seq
    assert store.reads.backlog() == 0


def test_clock_corrections_and_pseudonyms_reach_hq_raw_numbers_do_not(store, hq):
    from edge.clock import ClockCorrection

    call = store.begin_call("sip", "p:0123456789abcdef0123", False, "demo", "3")
    store.request_callback(call, "+255712345678")
    store.record_clock_correction(ClockCorrection("boot-1", 12.5, "2026-11-27T10:00:00.000Z",
                                                  "2025-01-01T00:00:00.000Z", "network"))
    store.end_call(call, "complete")
    report = drain(ledger_for(store), HqSink(hq.url + "/v1/batches", "box-1", SECRET),
                   wait=lambda s: False, max_wait_s=0)
    assert report.done
    assert_exactly_once(store, hq.storage)
    clock = hq.storage.records("clock")
    assert len(clock) == 1 and clock[0]["body"]["source"] == "network"
    assert clock[0]["body"]["mono"] == 12.5 and clock[0]["body"]["boot"] == "boot-1"
    dump = helpers_dump(hq.storage)
    assert "+255712345678" not in dump and "712345678" not in dump
    assert hq.storage.records("call")[0]["body"]["caller"] == "p:0123456789abcdef0123"


def test_parked_batch_does_not_block_later_ones(filled, hq):
    from sync._batching import PARK, Outcome

    store, _ = filled
    ledger = ledger_for(store)
    real = HqSink(hq.url + "/v1/batches", "box-1", SECRET)

    class RefuseSecond:
        name = "hq"

        def send(self, batch):
            if batch.seq == 2:
                return Outcome(PARK, "HTTP 400: schema")
            return real.send(batch)

    report = drain(ledger, RefuseSecond(), wait=lambda s: False, max_wait_s=0)
    assert report.done and len(report.parked) == 1
    first = store.query("SELECT last_seq FROM sync_batches WHERE seq = 1")[0]["last_seq"]
    assert ledger.acked_seq() == first  # the cursor stops before the parked batch
    sealed = store.query("SELECT count(*) AS n FROM sync_batches WHERE state = 'acked'")
    assert sealed[0]["n"] > 2  # later batches were delivered
    assert ledger.unpark() == 1
    assert drain(ledger, real, wait=lambda s: False, max_wait_s=0).done
    assert_exactly_once(store, hq.storage)
    assert store.reads.backlog() == 0


def test_retry_sends_the_same_bytes_under_the_same_id_after_reopen(filled, hq):
    store, _ = filled
    ledger = ledger_for(store)
    batch = ledger.seal_next()
    again = ledger_for(store).next_sealed()  # a new process after a crash
    assert (again.batch_id, again.body) == (batch.batch_id, batch.body)
    store.begin_call("sip", None, True, "demo", "3")  # new outbox rows do not change it
    assert ledger_for(store).next_sealed().body == batch.body


def test_two_batches_on_the_wire_ack_out_of_order_cursor_stays_contiguous(filled, hq):
    import threading

    from sync._batching import RETRY, Outcome

    store, _ = filled
    ledger = ledger_for(store)
    real = HqSink(hq.url + "/v1/batches", "box-1", SECRET)
    second_sent = threading.Event()
    at_retry: list[tuple[int, str]] = []
    attempts: list[int] = []

    class SlowFirstFails:
        name = "hq"
        window = 2

        def send(self, batch):
            attempts.append(batch.seq)
            if batch.seq == 1 and attempts.count(1) == 1:
                second_sent.wait(5)  # batch 2 reaches HQ while 1 is still out
                return Outcome(RETRY, "HTTP 502")
            if batch.seq == 1:  # the retry: batch 2 is acknowledged, the cursor has not moved
                state = store.query("SELECT state FROM sync_batches WHERE seq = 2")[0]["state"]
                at_retry.append((ledger.acked_seq(), state))
            outcome = real.send(batch)
            if batch.seq == 2:
                second_sent.set()
            return outcome

    report = drain(ledger, SlowFirstFails(), wait=lambda s: False, max_wait_s=10)
    assert report.done and report.failures == 1
    assert attempts[:2] in ([1, 2], [2, 1]) and attempts.count(1) == 2
    assert at_retry == [(0, "acked")]
    assert ledger.acked_seq() == store.reads.outbox_after(0, 10**6)[-1].seq
    assert_exactly_once(store, hq.storage)
