"""Outbox retention against real sinks: a row goes only when every configured sink has
acknowledged it, and the sinks' cursors go on as before (exactly once throughout)."""

from __future__ import annotations

from edge.clock import format_utc
from sync._batching import RETRY, Backoff, Outcome
from sync._hq import HqSink
from sync._runner import drain
from sync._twilio import TwilioSink
from tests.support import TwilioSyncStandIn

from .conftest import SECRET
from .helpers import hq_records, ledger_for, outbox_records
from .test_twilio import IS, MAPS, SK, _records_in
from .test_twilio import SECRET as TWILIO_SECRET

FAST = Backoff(base_s=0.01, cap_s=0.05)


def test_retention_keeps_what_any_sink_still_needs(filled, hq):
    store, sim = filled
    everything = outbox_records(store)
    future = format_utc(sim.wall + 86_400)
    hq_ledger = ledger_for(store, "hq", max_records=60)
    twilio_ledger = ledger_for(store, "twilio", max_records=50, max_bytes=2048)
    assert store.reads.acking_sinks() == ["hq", "twilio"]  # both registered, at 0
    hq_sink = HqSink(hq.url + "/v1/batches", "box-1", SECRET)
    assert drain(hq_ledger, hq_sink, wait=lambda s: False, max_wait_s=0).done
    assert store.purge_outbox(future) == 0  # Twilio has nothing yet: every row stays

    twilio = TwilioSyncStandIn(IS, SK, TWILIO_SECRET, MAPS)
    try:
        sink = TwilioSink(twilio.url, IS, SK, TWILIO_SECRET, MAPS, writes_per_s=20)
        real_send, sent = sink.send, []

        def cut_after_three(batch):  # the link goes after three items
            sent.append(batch.seq)
            return real_send(batch) if len(sent) <= 3 else Outcome(RETRY, "link down")

        sink.send = cut_after_three  # type: ignore[method-assign]
        report = drain(twilio_ledger, sink, wait=lambda s: False, max_wait_s=0, backoff=FAST)
        assert not report.done and report.acked_batches == 3
        acked = twilio_ledger.acked_seq()
        assert store.purge_outbox(future) == 150  # up to Twilio's cursor (3 x 50), no further
        assert store.reads.outbox_after(0, 1)[0].seq == acked + 1

        sink.send = real_send  # type: ignore[method-assign]
        assert drain(twilio_ledger, sink, wait=lambda s: False, max_wait_s=0,
                     backoff=FAST).done
        assert _records_in(twilio) == everything  # each record once, none lost to the purge
    finally:
        twilio.close()
    assert hq_records(hq.storage) == everything
    store.end_call(store.begin_call("sip", None, True, "demo", "3"), "complete")
    assert drain(hq_ledger, hq_sink, wait=lambda s: False, max_wait_s=0).done  # cursor intact
    assert hq.storage.count() == len(everything) + 2
