"""Batches end to end: grouping, the header, the binary part, format 1 still read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.store import Store
from sync.codec import CodecError, Record, batch_encoder, decode_batch, decompress, encode_batch
from sync.codec._time import ms_iso
from tests.support import SimClock

iso = st.integers(1_700_000_000_000, 1_900_000_000_000).map(ms_iso)
scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(-10**6, 10**6, places=3).map(float),
    st.decimals(0, 10**5, places=6).map(float),
    st.text(max_size=12), iso, st.sampled_from(["box-1.ab12.7", "box-1.ab12.7/q1", "007"]),
)
bodies = st.dictionaries(st.sampled_from(["a", "v", "c", "utc", "mono", "id", "call", "k"]), scalar,
                         max_size=6)


@st.composite
def batches(draw: st.DrawFn) -> list[Record]:
    n = draw(st.integers(1, 30))
    recs = []
    seq = draw(st.integers(1, 1000))
    keys = draw(st.lists(st.sampled_from(["a", "v", "utc", "mono", "j"]), unique=True, max_size=4))
    for _ in range(n):
        seq += draw(st.integers(1, 3))
        body = {k: draw(scalar) for k in keys} if draw(st.booleans()) else draw(bodies)
        # Few distinct ids: later versions of a record land in other groups (joins).
        recs.append(Record(seq, draw(st.sampled_from(["x.1", "x.2/q", "r"]))
                           + str(draw(st.integers(0, 4))),
                           draw(st.integers(1, 3)), draw(st.sampled_from(["call", "answer",
                                                                        "clock"])),
                           draw(iso), dict(sorted(body.items()))))
    return recs


@settings(max_examples=300, deadline=None)
@given(batches(), st.sampled_from(["xz", "gzip"]))
def test_round_trip_is_lossless(records: list[Record], compression: str) -> None:
    data = encode_batch({"box": "b", "batch": "b.1", "first": 1, "last": 2}, records,
                        compression)
    decoded = decode_batch(data)
    assert decoded["records"] == records
    # JSON spelling too: what HQ stores must read as the box's canonical body.
    assert [json.dumps(r.body, sort_keys=True) for r in decoded["records"]] == [
        json.dumps(r.body, sort_keys=True) for r in records]


def test_real_outbox_round_trip_and_compaction(filled: tuple[Store, SimClock]) -> None:
    store, _ = filled
    rows = store.reads.outbox_after(0, 10**6)
    data = batch_encoder("box-1")(rows, "box-1.e.hq.1")
    decoded = decode_batch(data)["records"]
    assert [(r.seq, r.id, r.version, r.kind, r.created_utc) for r in decoded] == [
        (r.seq, r.record_id, r.version, r.kind, r.created_utc) for r in rows]
    assert [json.loads(r.body) for r in rows] == [r.body for r in decoded]
    plain = sum(len(r.body) for r in rows)
    assert len(data) * 10 < plain  # columns + xz: at least 10x smaller than the bodies


@pytest.mark.parametrize("junk", [b"", b"hello", b"\x1f\x8b\x08junk", b'{"v":9,"g":[]}',
                                  b'{"v":1,"n":1,"g":[{"k":"a","n":2,"c":[["@seq",["j",[1]]]]}]}'])
def test_garbage_is_a_codec_error(junk: bytes) -> None:
    with pytest.raises(CodecError):
        decode_batch(junk)


# A format-1 batch (sealed by an older box, still waiting in its ledger): still decodes.
V1_BATCH = bytes.fromhex(
    "1f8b08000000000002038d90cf4ac34010c66b283ec8809e3631b3d6b4d9531fc2932187cd3631c5989826"
    "8d4a2978f4662f42117c00fb1e3e8377cf7d85823bf9831544bc0cfbfdbed961bee9f50eb60ba840208320bb"
    "0341d544d04a962aeeb425032bce2de2d1745694757f22e971ca20adeb25086f0157fa8b92490235e60c94c6"
    "1e8ca713609e16ec7b2082ef6b362ec29cbc0a98cd7883aa16f016a4ad1e740d2581b2a50e51c2d7599a118b"
    "88d5168e3a8f960a67dd1237c21da294ca511c2315a849e8da5ce985fc256b42c8b4b8a57e8a817fc638c97f"
    "06d1ee7e0c2d716f69facb6dee98b66b723cc781c03361a335c4d14533675eaaff353677fefdaa954ce66167"
    "de87451dcd5f1a8746dfe8af374fefeb78f5b1d2f5e5f97377f4f0faf678fc055c5d1f810c020000")


def test_format_1_batches_still_decode() -> None:
    records = decode_batch(V1_BATCH)["records"]
    assert [(r.seq, r.id, r.version, r.kind) for r in records] == [
        (1, "box-1.ab.1", 1, "call"), (2, "box-1.ab.1/q", 1, "answer"),
        (3, "box-1.ab.1", 2, "call")]
    assert records[0].body == {"caller": "p:971aac6c21fcbcde902c", "mono": 5097.932109, "n": 1}


def _payload_doc(data: bytes) -> dict[str, Any]:
    payload = decompress(data)
    return json.loads(payload[4:4 + int.from_bytes(payload[:4], "big")])


def test_pseudonyms_travel_as_bytes_and_times_as_one_column(filled: tuple[Store, SimClock]
                                                            ) -> None:
    store, _ = filled
    rows = store.reads.outbox_after(0, 10**6)
    data = batch_encoder("box-1")(rows, "box-1.e.hq.1")
    doc = _payload_doc(data)
    first_calls = next(g for g in doc["g"] if g["k"] == "call")
    assert dict(first_calls["c"])["caller"][0] == "h"  # "p:" + 20 hex -> 10 bytes each
    assert doc["t"] and all(enc == ["T"] for g in doc["g"] for name, enc in g["c"]
                            if name == "@t")
    assert [r.body for r in decode_batch(data)["records"]] == [json.loads(r.body) for r in rows]


def test_records_whose_times_are_not_stamps_have_no_time_column() -> None:
    records = [Record(1, "a", 1, "call", "yesterday", {"x": 1}),
               Record(2, "b", 1, "call", "2026-01-01T00:00:00.000Z", {"x": 2})]
    data = encode_batch({"box": "b"}, records)
    assert "t" not in _payload_doc(data)
    assert decode_batch(data)["records"] == records
