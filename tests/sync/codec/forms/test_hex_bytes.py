"""Cases of the HexBytesForm ("h"): ../testdata/forms/hex_bytes.json, one test each
(conftest.py); and hex-like text that must stay text."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sync.codec import Record, decode_batch, encode_batch


def test_hex_bytes(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)


@pytest.mark.parametrize("values", [
    ["p:00ff", "p:0a0b"],  # too short to be worth it: stays text, still round-trips
    ["p:" + "ab" * 10, "p:" + "AB" * 10],  # upper case hex would come back lower case
    ["p:" + "ab" * 10, "p:" + "ab" * 9 + " a"],  # bytes.fromhex would take the space
    ["p:" + "ab" * 10, "q:" + "ab" * 10, "p:" + "cd" * 10],
    ["x" + "0f" * 8, "x" + "0f" * 8 + "00"],
])
def test_hex_like_strings_round_trip(values: list[str]) -> None:
    records = [Record(i + 1, f"r{i}", 1, "call", "2026-01-01T00:00:00.000Z", {"c": v})
               for i, v in enumerate(values * 3)]
    assert decode_batch(encode_batch({"box": "b"}, records))["records"] == records
