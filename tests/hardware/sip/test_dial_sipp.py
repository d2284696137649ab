"""Calling people back on the SIP line (issue #12): ``SipLine.dial`` against SIPp phones behind
a "gateway" (SIPp as the UAS on 127.0.0.1): each answer to our INVITE mapped to its outcome,
the ACKs, CANCEL and digest checked by the scenarios, and an answered call completing the demo
survey."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from edge.lines import DIAL_OUTCOMES, RemoteHangup
from edge.privacy import Pseudonymiser
from edge.server import run_call
from edge.store import Store
from edge.survey import BUILTIN_DEMO, load_survey

NUMBER = "+255712345678"
EXPECTED = {"language": "en", "consent": "yes", "household": "1", "need": "food",
            "callback": "no"}
KEY = b"sip-test-pseudonym-key-0123456789"


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = Store.open(tmp_path / "store")
    yield opened
    opened.close()


def gateway(sipp: Any, make_line: Any, scenario: str, **line: Any) -> tuple[Any, Any]:
    """SIPp as the phone behind the gateway (started first), and a line that dials it."""
    proc = sipp.start(scenario, None, timeout_s=40)
    harness = make_line(gateway_address="127.0.0.1", gateway_port=sipp.port, **line)
    return proc, harness.line


def test_the_sip_kind_dials() -> None:
    from hardware.sip import KIND

    assert KIND.dials


def test_answered_call_completes_the_demo_survey(sipp, make_line, store, shared_data_dir):
    proc, line = gateway(sipp, make_line, "uas_answer_keys.xml", data_dir=shared_data_dir)
    assert line.ready_to_dial()
    result = line.dial(NUMBER, 20)
    assert result.outcome == "answered", result.detail
    call = result.call
    assert call.caller.number == NUMBER
    call.answer()  # already answered: does nothing
    disposition = run_call(call, load_survey(BUILTIN_DEMO), store, Pseudonymiser(KEY))
    assert disposition == "complete"
    rows = store.query("SELECT question, value FROM answers")
    assert {r["question"]: r["value"] for r in rows} == EXPECTED
    assert sipp.wait(proc) == 0, sipp.errors()  # ACK with To-tag, our BYE in the dialog
    assert line.phone.calls == {}


@pytest.mark.parametrize(("code", "phrase", "outcome"), [
    (486, "Busy Here", "busy"),
    (600, "Busy Everywhere", "busy"),
    (603, "Decline", "rejected"),
    (404, "Not Found", "unreachable"),
    (480, "Temporarily Unavailable", "no-answer"),  # after its 180: it rang
    (503, "Service Unavailable", "failed"),
])
def test_final_answers_map_to_outcomes(code, phrase, outcome, sipp, make_line, tools):
    scenario = sipp.workdir / f"uas_final_{code}.xml"
    scenario.write_text((tools.SCENARIOS / "uas_final.template.xml").read_text().replace(
        "CODE PHRASE", f"{code} {phrase}"))
    proc, line = gateway(sipp, make_line, str(scenario))
    result = line.dial(NUMBER, 20)
    assert (result.outcome, result.call) == (outcome, None), result.detail
    assert result.detail.startswith(f"{code} {phrase}")
    assert sipp.wait(proc) == 0, sipp.errors()  # our ACK: To-tag, CSeq
    assert line.phone.calls == {}


def test_ring_timeout_cancels(sipp, make_line):
    proc, line = gateway(sipp, make_line, "uas_ring_no_answer.xml")
    started = time.monotonic()
    result = line.dial(NUMBER, 2.0)
    assert result.outcome == "no-answer" and result.call is None, result.detail
    assert 2.0 <= time.monotonic() - started < 5.0
    assert "487" in result.detail
    assert sipp.wait(proc) == 0, sipp.errors()  # CANCEL on the INVITE's branch, 487 ACKed
    assert line.phone.calls == {}


def test_outcomes_are_the_lines_outcomes():
    from hardware.sip._compat import Placed
    from hardware.sip._outcomes import dial_outcome

    seen = {dial_outcome(Placed(code, rang=rang, provisional=True, cancelled=c), 30)[0]
            for code in (0, 200, 404, 408, 480, 486, 487, 500, 603)
            for rang in (False, True) for c in (False, True)}
    assert seen <= set(DIAL_OUTCOMES)


def test_hang_up_after_answer_sends_bye(sipp, make_line):
    proc, line = gateway(sipp, make_line, "uas_answer_keys.xml")
    result = line.dial(NUMBER, 20)
    assert result.outcome == "answered"
    call = result.call
    keys = ""
    deadline = time.monotonic() + 15
    while len(keys) < 6 and time.monotonic() < deadline:
        event = call.next_event(0.5)
        if event is not None and hasattr(event, "digit"):
            keys += event.digit
        assert not isinstance(event, RemoteHangup)
    assert keys == "111#12"
    call.hang_up()
    assert sipp.wait(proc) == 0, sipp.errors()
