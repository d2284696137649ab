"""Cases of the ResidualForm ("r"): ../testdata/forms/residual.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_residual(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
