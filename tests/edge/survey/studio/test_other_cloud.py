"""Cases of the other-cloud widget: testdata/other-cloud.json."""

from collections.abc import Callable


def test_other_cloud(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
