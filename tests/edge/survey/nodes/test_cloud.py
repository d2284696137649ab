"""Cases of the cloud node kind: testdata/cloud.json (parametrised by conftest.py)."""

from collections.abc import Callable


def test_cloud(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
