"""Cases of the say-play widget: testdata/say-play.json."""

from collections.abc import Callable


def test_say_play(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
