"""Cases of the make-http-request widget: testdata/make-http-request.json."""

from collections.abc import Callable


def test_make_http_request(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
