"""Cases of the record-voicemail widget: testdata/record-voicemail.json."""

from collections.abc import Callable


def test_record_voicemail(case: dict, run_case: Callable[[dict], None]) -> None:
    run_case(case)
