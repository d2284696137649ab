"""Cases of the DecimalForm ("f"): ../testdata/forms/decimals.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_decimals(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
