"""Cases of the trigger widget: testdata/trigger.json."""

from collections.abc import Callable


def test_trigger(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
