"""The search: plans found on a sample or kept from the last batch, and refitted where the
data no longer fits them."""

from __future__ import annotations

from typing import Any

from edge.store import Store
from sync.codec import Record, decode_batch, encode_batch
from sync.codec._search import SAMPLE
from sync.codec._time import ms_iso
from tests.support import SimClock


def test_large_group_whose_later_rows_break_the_sampled_plan() -> None:
    """Column forms are searched on the first rows of a large group; rows after the sample
    that do not fit them must still round-trip (the column is searched again)."""
    n = 3 * SAMPLE + 500
    records = []
    for i in range(n):
        late = i > 2 * SAMPLE
        body = {
            "a": "same" if not late else f"other{i % 3}",
            "call": f"box.ab.{i // 10}",
            "f": round(i * 0.25, 2) if not late else i * 0.123457,
            "n": i * 2 if not late else i * 2 + (i % 7),
            "t": ms_iso(1_790_000_000_000 + i * 1000) if not late else "not a time",
            "v": ["x", "y"][i % 2] if not late else str(i),
        }
        rid = f"box.ab.{i // 10}/q{i % 10}" if not late else f"box-ab-{i}"
        records.append(Record(i + 1, rid, 1, "answer", ms_iso(1_790_000_000_000 + i * 999),
                              body))
    data = encode_batch({"box": "b"}, records)
    assert decode_batch(data)["records"] == records


def test_plans_carry_over_to_later_batches_and_refit_when_data_changes(
        filled: tuple[Store, SimClock]) -> None:
    """The second batch applies the first one's column forms; where they no longer fit
    (a constant that varies, a stamp column that holds text), the column is searched
    again, and every batch still decodes to its records."""
    store, _ = filled
    rows = store.reads.outbox_after(0, 10**6)
    plans: dict[Any, Any] = {}
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
