"""Cases of the message node kind: testdata/message.json (parametrised by conftest.py)."""

from collections.abc import Callable


def test_message(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
