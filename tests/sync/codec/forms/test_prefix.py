"""Cases of the PrefixForm ("p"): ../testdata/forms/prefix.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_prefix(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
