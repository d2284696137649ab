"""Cases of the record node kind: testdata/record.json (parametrised by conftest.py)."""

from collections.abc import Callable


def test_record(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
