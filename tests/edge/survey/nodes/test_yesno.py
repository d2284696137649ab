"""Cases of the yesno node kind: testdata/yesno.json (parametrised by conftest.py)."""

from collections.abc import Callable


def test_yesno(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
