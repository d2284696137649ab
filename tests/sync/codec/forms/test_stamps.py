"""Cases of the StampForm ("t"): ../testdata/forms/stamps.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_stamps(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
