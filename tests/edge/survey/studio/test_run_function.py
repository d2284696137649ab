"""Cases of the run-function widget: testdata/run-function.json."""

from collections.abc import Callable


def test_run_function(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
