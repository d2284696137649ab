"""Cases of the EarlierVersionForm ("m"): ../testdata/forms/earlier_version.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_earlier_version(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
