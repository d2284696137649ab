"""Raw numbers of pending callbacks leave the box only when the deployment allows it
([sync] send_callback_numbers), only for pending callbacks, once per sink and request."""

from __future__ import annotations

import base64

from edge.privacy import Pseudonymiser
from sync._hq import HqSink
from sync._ledger import Ledger, connect
from sync._runner import drain
from sync._twilio import TwilioSink
from sync.codec import batch_encoder, decode_batch, decompress
from sync.config import SYNC
from tests.support import TwilioSyncStandIn

from .conftest import SECRET
from .helpers import assert_exactly_once

NUMBERS = [f"+2557{n:08d}" for n in (12345678, 23456789, 34567890, 45678901)]


def _calls(store):
    """Four calls; callbacks asked on the first three, the third already placed."""
    pseudo = Pseudonymiser(b"k" * 32)
    ids = []
    for number in NUMBERS:
        call = store.begin_call("sip", pseudo.pseudonym(number), False, "demo", "3")
        ids.append(call)
        store.end_call(call, "complete")
    for call, number in zip(ids[:3], NUMBERS[:3], strict=True):
        store.request_callback(call, number)
    store.db.execute("UPDATE outbound SET status = 'done' WHERE source_call = ?", [ids[2]])
    store.db.conn.commit()
    return ids


def _ledger(store, allowed, sink="hq"):
    return Ledger(connect(store.path), sink, store.box_id, batch_encoder(store.box_id),
                  1000, 64 * 1024, callback_numbers=allowed)


def _digits(number: str) -> bytes:
    return number[-9:].encode()  # without the + and country code, however it is spelt


def test_off_by_default_and_then_no_raw_number_leaves(store):
    assert SYNC.parse({})[0]["send_callback_numbers"] is False
    _calls(store)
    batch = _ledger(store, False).seal_next()
    assert batch is not None
    plain = decompress(batch.body)
    assert not any(_digits(n) in plain for n in NUMBERS)
    assert "callbacks" not in decode_batch(batch.body)


def test_on_sends_pending_callbacks_only_and_once(store):
    ids = _calls(store)
    ledger = _ledger(store, True)
    batch = ledger.seal_next()
    assert batch is not None
    decoded = decode_batch(batch.body)
    assert [(c["call"], c["number"]) for c in decoded["callbacks"]] == [
        (ids[0], NUMBERS[0]), (ids[1], NUMBERS[1])]
    plain = decompress(batch.body)
    # The placed callback's number and the number of a call without one never leave.
    assert _digits(NUMBERS[2]) not in plain and _digits(NUMBERS[3]) not in plain
    # Each raw number is in the callbacks part only, once: records carry pseudonyms.
    assert all(plain.count(_digits(n)) == 1 for n in NUMBERS[:2])
    assert all(_digits(n) not in str(r.body).encode() for r in decoded["records"]
               for n in NUMBERS)
    # Already sent: the next batch does not carry them again; a new request does go.
    store.begin_call("sip", "p:" + "ab" * 10, False, "demo", "3")
    again = ledger.seal_next()
    assert again is not None and "callbacks" not in decode_batch(again.body)


def test_on_reaches_hq_and_twilio_each_once(store, hq):
    _calls(store)
    report = drain(_ledger(store, True), HqSink(hq.url + "/v1/batches", "box-1", SECRET),
                   wait=lambda s: False, max_wait_s=0)
    assert report.done
    assert_exactly_once(store, hq.storage)
    assert sorted(c["number"] for c in hq.storage.callbacks()) == NUMBERS[:2]
    twilio = TwilioSyncStandIn("IS" + "0" * 32, "SK" + "1" * 32, "s", ["m0"])
    try:
        sink = TwilioSink(twilio.url, "IS" + "0" * 32, "SK" + "1" * 32, "s", ["m0"])
        assert drain(_ledger(store, True, "twilio"), sink, wait=lambda s: False,
                     max_wait_s=0).done
    finally:
        twilio.close()
    items = list(twilio.items["m0"].values())
    assert len(items) == 1
    decoded = decode_batch(base64.b64decode(items[0]["b64"]))
    assert [c["number"] for c in decoded["callbacks"]] == NUMBERS[:2]
