"""Cases of the LookupForm ("x"): ../testdata/forms/lookup.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_lookup(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
