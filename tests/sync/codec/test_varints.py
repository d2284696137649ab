"""Varints of the binary part: plain LEB128 and its zigzag for signed ints."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.codec._varints import read_unsigned, read_zigzag, unsigned_varints, zigzag_varints


@pytest.mark.parametrize(("ints", "wire"), [
    ([], ""), ([0, 1, 127], "00017f"), ([128], "8001"), ([300], "ac02"),
    ([16384], "808001"), ([2**63], "80808080808080808001"),
])
def test_unsigned_varints_are_leb128(ints: list[int], wire: str) -> None:
    assert unsigned_varints(ints).hex() == wire
    assert read_unsigned(bytes.fromhex(wire), 0, len(ints)) == ints


@pytest.mark.parametrize(("ints", "wire"), [([0, -1, 1, -2, 2], "0001020304"), ([-65], "8101")])
def test_zigzag_keeps_small_negatives_small(ints: list[int], wire: str) -> None:
    assert zigzag_varints(ints).hex() == wire
    assert read_zigzag(bytes.fromhex(wire), 0, len(ints)) == ints


@given(st.lists(st.integers(-(2**70), 2**70)), st.binary(max_size=3))
def test_round_trip_from_an_offset(ints: list[int], before: bytes) -> None:
    blob = before + zigzag_varints(ints) + b"\xff"
    assert read_zigzag(blob, len(before), len(ints)) == ints
    positive = [abs(i) for i in ints]
    blob = before + unsigned_varints(positive)
    assert read_unsigned(blob, len(before), len(positive)) == positive
