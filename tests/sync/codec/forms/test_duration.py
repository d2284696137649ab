"""Cases of the DurationForm ("q"): ../testdata/forms/duration.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_duration(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
