"""Cases of the SuffixForm ("s"): ../testdata/forms/suffix.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_suffix(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
