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


# A format-1 batch (sealed by an older box, still waiting in its ledger): still decodes.
V1_BATCH = bytes.fromhex(
    "1f8b08000000000002038d90cf4ac34010c66b283ec8809e3631b3d6b4d9531fc2932187cd3631c5989826"
    "8d4a2978f4662f42117c00fb1e3e8377cf7d85823bf9831544bc0cfbfdbed961bee9f50eb60ba840208320bb"
    "0341d544d04a962aeeb425032bce2de2d1745694757f22e971ca20adeb25086f0157fa8b92490235e60c94c6"
    "1e8ca713609e16ec7b2082ef6b362ec29cbc0a98cd7883aa16f016a4ad1e740d2581b2a50e51c2d7599a118b"
    "88d5168e3a8f960a67dd1237c21da294ca511c2315a849e8da5ce985fc256b42c8b4b8a57e8a817fc638c97f"
    "06d1ee7e0c2d716f69facb6dee98b66b723cc781c03361a335c4d14533675eaaff353677fefdaa954ce66167"
    "de87451dcd5f1a8746dfe8af374fefeb78f5b1d2f5e5f97377f4f0faf678fc055c5d1f810c020000")


def test_format_1_batches_still_decode():
    records = decode_batch(V1_BATCH)["records"]
    assert [(r.seq, r.id, r.version, r.kind) for r in records] == [
        (1, "box-1.ab.1", 1, "call"), (2, "box-1.ab.1/q", 1, "answer"),
        (3, "box-1.ab.1", 2, "call")]
    assert records[0].body == {"caller": "p:971aac6c21fcbcde902c", "mono": 5097.932109, "n": 1}


def _payload_doc(data: bytes) -> dict:
    from sync._codec import decompress

    payload = decompress(data)
    return json.loads(payload[4:4 + int.from_bytes(payload[:4], "big")])


def test_pseudonyms_travel_as_bytes_and_times_as_one_column(filled):
    store, _ = filled
    rows = store.reads.outbox_after(0, 10**6)
    data = batch_encoder("box-1")(rows, "box-1.e.hq.1")
    doc = _payload_doc(data)
    first_calls = next(g for g in doc["g"] if g["k"] == "call")
    assert dict(first_calls["c"])["caller"][0] == "h"  # "p:" + 20 hex -> 10 bytes each
    assert doc["t"] and all(enc == ["T"] for g in doc["g"] for name, enc in g["c"]
                            if name == "@t")
    assert [r.body for r in decode_batch(data)["records"]] == [json.loads(r.body) for r in rows]


@pytest.mark.parametrize("values", [
    ["p:00ff", "p:0a0b"],  # too short to be worth it: stays text, still round-trips
    ["p:" + "ab" * 10, "p:" + "AB" * 10],  # upper case hex would come back lower case
    ["p:" + "ab" * 10, "p:" + "ab" * 9 + " a"],  # bytes.fromhex would take the space
    ["p:" + "ab" * 10, "q:" + "ab" * 10, "p:" + "cd" * 10],
    ["x" + "0f" * 8, "x" + "0f" * 8 + "00"],
])
def test_hex_like_strings_round_trip(values):
    records = [Record(i + 1, f"r{i}", 1, "call", "2026-01-01T00:00:00.000Z", {"c": v})
               for i, v in enumerate(values * 3)]
    assert decode_batch(encode_batch({"box": "b"}, records))["records"] == records


def test_plans_carry_over_to_later_batches_and_refit_when_data_changes(filled):
    """The second batch applies the first one's column forms; where they no longer fit
    (a constant that varies, a stamp column that holds text), the column is searched
    again, and every batch still decodes to its records."""
    store, _ = filled
    rows = store.reads.outbox_after(0, 10**6)
    plans: dict = {}
    first = [Record(r.seq, r.record_id, r.version, r.kind, r.created_utc, r.data())
             for r in rows[:200]]
    encode_batch({"box": "b"}, first, "xz", plans)
    assert plans
    later = []
    for r in rows[200:]:
        body = r.data()
        if r.kind == "answer" and r.seq % 3 == 0:
            body = {**body, "clock": "unsynchronised", "utc": "not a time", "visit": 2,
                    "mono": -0.5}
        later.append(Record(r.seq, r.record_id, r.version, r.kind, r.created_utc, body))
    data = encode_batch({"box": "b"}, later, "xz", plans)
    assert decode_batch(data)["records"] == later


def test_records_whose_times_are_not_stamps_have_no_time_column():
    records = [Record(1, "a", 1, "call", "yesterday", {"x": 1}),
               Record(2, "b", 1, "call", "2026-01-01T00:00:00.000Z", {"x": 2})]
    data = encode_batch({"box": "b"}, records)
    assert "t" not in _payload_doc(data)
    assert decode_batch(data)["records"] == records


@pytest.mark.parametrize("tail", [float("inf"), -0.0, 1e300, 0.1 + 0.2, 1.0000000001, 7.25])
def test_floats_whose_later_rows_have_other_decimals_round_trip(tail):
    """The decimals of a float column are guessed from its first rows: later rows that have
    more (or are not finite) must still come back spelt the same."""
    values = [i * 0.5 for i in range(100)] + [tail] + [i * 0.5 for i in range(10)]
    records = [Record(i + 1, f"r{i}", 1, "x", "2026-01-01T00:00:00.000Z", {"f": v})
               for i, v in enumerate(values)]
    decoded = decode_batch(encode_batch({"box": "b"}, records))["records"]
    assert [repr(r.body["f"]) for r in decoded] == [repr(v) for v in values]
