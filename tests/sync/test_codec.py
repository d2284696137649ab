from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync._codec import CodecError, Record, batch_encoder, decode_batch, encode_batch

iso = st.integers(1_700_000_000_000, 1_900_000_000_000).map(
    lambda ms: __import__("sync._codec", fromlist=["_ms_iso"])._ms_iso(ms))
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
def batches(draw):
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
def test_round_trip_is_lossless(records, compression):
    data = encode_batch({"box": "b", "batch": "b.1", "first": 1, "last": 2}, records,
                        compression)
    decoded = decode_batch(data)
    assert decoded["records"] == records
    # JSON spelling too: what HQ stores must read as the box's canonical body.
    assert [json.dumps(r.body, sort_keys=True) for r in decoded["records"]] == [
        json.dumps(r.body, sort_keys=True) for r in records]


def test_real_outbox_round_trip_and_compaction(filled):
    store, _ = filled
    rows = store.outbox_after(0, 10**6)
    data = batch_encoder("box-1")(rows, "box-1.e.hq.1")
    decoded = decode_batch(data)["records"]
    assert [(r.seq, r.id, r.version, r.kind, r.created_utc) for r in decoded] == [
        (r.seq, r.record_id, r.version, r.kind, r.created_utc) for r in rows]
    assert [json.loads(r.body) for r in rows] == [r.body for r in decoded]
    plain = sum(len(r.body) for r in rows)
    assert len(data) * 10 < plain  # columns + xz: at least 10x smaller than the bodies


@pytest.mark.parametrize("junk", [b"", b"hello", b"\x1f\x8b\x08junk", b'{"v":9,"g":[]}',
                                  b'{"v":1,"n":1,"g":[{"k":"a","n":2,"c":[["@seq",["j",[1]]]]}]}'])
def test_garbage_is_a_codec_error(junk):
    with pytest.raises(CodecError):
        decode_batch(junk)


def test_large_group_whose_later_rows_break_the_sampled_plan():
    """Column forms are searched on the first rows of a large group; rows after the sample
    that do not fit them must still round-trip (the column is searched again)."""
    from sync._codec import _SAMPLE, _ms_iso

    n = 3 * _SAMPLE + 500
    records = []
    for i in range(n):
        late = i > 2 * _SAMPLE
        body = {
            "a": "same" if not late else f"other{i % 3}",
            "call": f"box.ab.{i // 10}",
            "f": round(i * 0.25, 2) if not late else i * 0.123457,
            "n": i * 2 if not late else i * 2 + (i % 7),
            "t": _ms_iso(1_790_000_000_000 + i * 1000) if not late else "not a time",
            "v": ["x", "y"][i % 2] if not late else str(i),
        }
        rid = f"box.ab.{i // 10}/q{i % 10}" if not late else f"box-ab-{i}"
        records.append(Record(i + 1, rid, 1, "answer", _ms_iso(1_790_000_000_000 + i * 999),
                              body))
    data = encode_batch({"box": "b"}, records)
    assert decode_batch(data)["records"] == records
