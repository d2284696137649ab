"""Cases of the set-variables widget: testdata/set-variables.json."""

from collections.abc import Callable


def test_set_variables(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
