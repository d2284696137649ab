"""Cases of the BatchTimeForm ("T"): ../testdata/forms/batch_time.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_batch_time(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
