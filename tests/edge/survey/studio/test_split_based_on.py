"""Cases of the split-based-on widget: testdata/split-based-on.json."""

from collections.abc import Callable


def test_split_based_on(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
