"""Cases of the DeltaForm ("d"): ../testdata/forms/deltas.json,
one test each (conftest.py)."""

from collections.abc import Callable


def test_deltas(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
