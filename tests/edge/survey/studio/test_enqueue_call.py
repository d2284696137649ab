"""Cases of the enqueue-call widget: testdata/enqueue-call.json."""

from collections.abc import Callable


def test_enqueue_call(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
