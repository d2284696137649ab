"""Cases of the OffsetForm ("b"): ../testdata/forms/offset.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_offset(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
