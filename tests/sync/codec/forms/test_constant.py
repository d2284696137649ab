"""Cases of the ConstantForm ("c"): ../testdata/forms/constant.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_constant(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
