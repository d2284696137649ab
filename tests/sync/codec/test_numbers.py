"""Numbers as scaled ints: float columns whose decimals change after the first rows."""

from __future__ import annotations

import pytest

from sync.codec import Record, decode_batch, encode_batch


@pytest.mark.parametrize("tail", [float("inf"), -0.0, 1e300, 0.1 + 0.2, 1.0000000001, 7.25])
def test_floats_whose_later_rows_have_other_decimals_round_trip(tail: float) -> None:
    """The decimals of a float column are guessed from its first rows: later rows that have
    more (or are not finite) must still come back spelt the same."""
    values = [i * 0.5 for i in range(100)] + [tail] + [i * 0.5 for i in range(10)]
    records = [Record(i + 1, f"r{i}", 1, "x", "2026-01-01T00:00:00.000Z", {"f": v})
               for i, v in enumerate(values)]
    decoded = decode_batch(encode_batch({"box": "b"}, records))["records"]
    assert [repr(r.body["f"]) for r in decoded] == [repr(v) for v in values]
