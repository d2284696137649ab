"""Cases of the split node kind: testdata/split.json (parametrised by conftest.py)."""

from collections.abc import Callable


def test_split(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
