"""Cases of the gather-input-on-call widget: testdata/gather-input-on-call.json."""

from collections.abc import Callable


def test_gather_input_on_call(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
