"""Cases of the TokensForm ("k"): ../testdata/forms/tokens.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_tokens(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
