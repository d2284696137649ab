"""Cases of the say node kind: testdata/say.json (parametrised by conftest.py)."""

from collections.abc import Callable


def test_say(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
