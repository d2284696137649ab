"""Cases of the connect node kind: testdata/connect.json (parametrised by conftest.py)."""

from collections.abc import Callable


def test_connect(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
