"""Cases of the VarintsForm ("v"): ../testdata/forms/varints.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_varints(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
