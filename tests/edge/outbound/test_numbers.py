import pytest

from edge.outbound import BadNumber, to_e164


@pytest.mark.parametrize(("raw", "code", "want"), [
    ("+255 712 345 678", "", "+255712345678"),
    ("0712-345-678", "255", "+255712345678"),
    ("00255712345678", "", "+255712345678"),
    ("712345678", "255", "+255712345678"),
    ("(0712) 345.678", "255", "+255712345678"),
])
def test_numbers_become_e164(raw: str, code: str, want: str) -> None:
    assert to_e164(raw, code) == want


@pytest.mark.parametrize(("raw", "code", "why"), [
    ("", "255", "empty"),
    ("0712345678", "", "no country code"),
    ("+12", "", "E.164"),
    ("07123x5678", "255", "characters"),
    ("+0712345678", "", "E.164"),
    ("+1234567890123456", "", "E.164"),
])
def test_bad_numbers_say_why(raw: str, code: str, why: str) -> None:
    with pytest.raises(BadNumber, match=why):
        to_e164(raw, code)
