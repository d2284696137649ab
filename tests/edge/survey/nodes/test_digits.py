"""Cases of the digits node kind: testdata/digits.json (parametrised by conftest.py)."""

from collections.abc import Callable


def test_digits(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
