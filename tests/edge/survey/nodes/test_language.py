"""Cases of the language node kind: testdata/language.json (parametrised by conftest.py)."""

from collections.abc import Callable


def test_language(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
