"""Millisecond UTC stamps as epoch milliseconds: only the exact spelling comes back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.codec._time import iso_ms, ms_iso


def test_known_stamps() -> None:
    assert iso_ms("1970-01-01T00:00:00.000Z") == 0
    assert iso_ms("2024-02-29T23:59:59.999Z") == 1_709_251_199_999
    assert ms_iso(1_709_251_199_999) == "2024-02-29T23:59:59.999Z"


@pytest.mark.parametrize("text", [
    "2023-02-29T00:00:00.000Z",  # no such day
    "2024-01-01T24:00:00.000Z", "2024-01-01T00:60:00.000Z", "2024-01-01T00:00:60.000Z",
    "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000+00:00", "2024-01-01 00:00:00.000Z",
    "yesterday", "",
])
def test_anything_else_is_no_stamp(text: str) -> None:
    assert iso_ms(text) is None


@given(st.integers(0, 253_402_300_799_999))  # up to 9999-12-31
def test_round_trip(ms: int) -> None:
    assert iso_ms(ms_iso(ms)) == ms
