"""Cases of the set node kind: testdata/set_variables.json (parametrised by conftest.py)."""

from collections.abc import Callable


def test_set_variables(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
