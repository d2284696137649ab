"""Cases of the send-to-flex widget: testdata/send-to-flex.json."""

from collections.abc import Callable


def test_send_to_flex(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
