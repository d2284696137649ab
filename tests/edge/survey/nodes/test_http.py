"""Cases of the http node kind: testdata/http.json (parametrised by conftest.py)."""

from collections.abc import Callable


def test_http(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
