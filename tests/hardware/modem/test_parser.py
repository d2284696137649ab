"""URC classification and field parsing, from the table-driven cases in testdata/."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from hardware.modem import _parser as p

DATA = Path(__file__).parent / "testdata"


def _cases(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text())


def _check(urc: object, case: dict) -> None:
    if case["urc"] is None:
        assert urc is None, case["line"]
        return
    assert type(urc).__name__ == case["urc"], (case["line"], urc)
    for field, want in case.get("fields", {}).items():
        got = getattr(urc, field)
        if isinstance(got, datetime):
            got = got.isoformat()
        assert got == want, (case["line"], field)


@pytest.mark.parametrize("case", _cases("urcs.json"), ids=lambda c: c["line"])
def test_classify_urc(case: dict) -> None:
    _check(p.classify_urc(case["line"]), case)


@pytest.mark.parametrize("case", _cases("late.json"), ids=lambda c: c["line"])
def test_classify_late(case: dict) -> None:
    _check(p.classify_late(case["line"]), case)


def test_final_results() -> None:
    assert p.final_result("OK") == p.Final(True, "OK")
    assert p.final_result("+CME ERROR: 515").cme == 515
    assert p.final_result("+CMS ERROR: 330").cms == 330
    assert not p.final_result("COMMAND NOT SUPPORT").ok
    assert p.final_result("+CSQ: 1,2") is None


def test_fields_and_signal() -> None:
    assert p.split_fields('"a,b",145,,"x"') == ["a,b", "145", "", "x"]
    assert p.parse_csq("+CSQ: 24,99") == 24
    assert p.parse_csq("+CSQ: 99,99") is None
    assert p.csq_to_dbm(24) == -65
    assert p.signal_words(5).startswith("marginal")
    assert p.parse_creg_response("+CREG: 0,5") == 5
    clcc = p.parse_clcc('+CLCC: 1,1,4,0,0,"+79139131234",145')
    assert clcc == p.ClccEntry(1, True, 4, True, "+79139131234")
    assert p.parse_clcc('+CLCC: 2,1,0,0,0,"",128').number is None


def test_sms_header_and_ucs2() -> None:
    header = p.parse_cmgr_header(
        '+CMGR: "REC UNREAD","+255700000001","","25/05/17,14:03:22+12",145,4,0,8,"+255",145,4'
    )
    assert header == p.SmsHeader("REC UNREAD", "+255700000001", 8)
    assert p.decode_ucs2_hex(p.encode_ucs2_hex("مرحبا")) == "مرحبا"
    assert p.decode_ucs2_hex("12") is None
