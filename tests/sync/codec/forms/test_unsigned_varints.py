"""Cases of the UnsignedVarintsForm ("u"): ../testdata/forms/unsigned_varints.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_unsigned_varints(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
