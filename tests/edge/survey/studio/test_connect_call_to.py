"""Cases of the connect-call-to widget: testdata/connect-call-to.json."""

from collections.abc import Callable


def test_connect_call_to(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
