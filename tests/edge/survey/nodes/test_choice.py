"""Cases of the choice node kind: testdata/choice.json (parametrised by conftest.py)."""

from collections.abc import Callable


def test_choice(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
