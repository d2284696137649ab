"""Cases of the LiteralForm ("j"): ../testdata/forms/literal.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_literal(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
