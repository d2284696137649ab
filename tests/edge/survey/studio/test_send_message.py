"""Cases of the send-message widget: testdata/send-message.json."""

from collections.abc import Callable


def test_send_message(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
