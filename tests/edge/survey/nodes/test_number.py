"""Cases of the number node kind: testdata/number.json (parametrised by conftest.py)."""

from collections.abc import Callable


def test_number(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
