from __future__ import annotations

from sync._hq import HqSink
from sync._runner import drain

from .conftest import SECRET
from .helpers import assert_exactly_once, ledger_for


def test_drain_delivers_every_record_once_and_moves_the_cursor(filled, hq):
    store, _sim = filled
    ledger = ledger_for(store)
    sink = HqSink(hq.url + "/v1/batches", "box-1", SECRET)
    report = drain(ledger, sink, wait=lambda s: False, max_wait_s=0)
    assert report.done and not report.parked
    assert report.acked_records == len(store.outbox_after(0, 10**6))
    assert_exactly_once(store, hq.db)
    assert ledger.acked_seq() == store.outbox_after(0, 10**6)[-1].seq
    assert store.backlog() == 0
