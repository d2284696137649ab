"""Cases of the end node kind: testdata/end.json (parametrised by conftest.py)."""

from collections.abc import Callable


def test_end(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
