"""End to end: SIPp callers complete the demo survey through edge.server.run_call."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from edge.privacy import Pseudonymiser
from edge.server import run_call
from edge.store import Store
from edge.survey import BUILTIN_DEMO, load_survey

EXPECTED = {"language": "en", "consent": "yes", "household": "1", "need": "food",
            "callback": "no"}
KEY = b"sip-test-pseudonym-key-0123456789"


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = Store.open(tmp_path / "store")
    yield opened
    opened.close()


def answers(store: Store, call_id: str | None = None) -> dict[str, str]:
    rows = store.query("SELECT call_id, question, value FROM answers")
    return {r["question"]: r["value"] for r in rows if call_id in (None, r["call_id"])}


@pytest.mark.parametrize(
    ("scenario", "overrides"),
    [
        ("uac_rfc2833_digits.xml", {}),
        ("uac_info_digits.xml", {}),
        ("uac_inband_digits.xml", {"dtmf_mode": "inband"}),
    ],
    ids=["rfc2833", "info", "inband"],
)
def test_demo_survey_completed(scenario, overrides, sipp, make_line, store, shared_data_dir):
    from .test_line_sipp import write_tone_wav

    write_tone_wav(sipp.workdir / "dtmf_tones.wav", "111#12")
    line = make_line(data_dir=shared_data_dir, **overrides)
    proc = sipp.start(scenario, line.port, timeout_s=60)
    call = line.next_call()
    disposition = run_call(call, load_survey(BUILTIN_DEMO), store, Pseudonymiser(KEY))
    assert disposition == "complete"
    assert answers(store) == EXPECTED
    row = store.query("SELECT caller, disposition FROM calls")[0]
    assert row["caller"] == Pseudonymiser(KEY).pseudonym("+255712345678")
    assert sipp.wait(proc) == 0, sipp.errors()  # the box hung up after the closing message


def test_twenty_concurrent_surveys(sipp, make_line, store, shared_data_dir):
    line = make_line(data_dir=shared_data_dir)
    survey = load_survey(BUILTIN_DEMO)
    pseudonymiser = Pseudonymiser(KEY)
    proc = sipp.start("uac_rfc2833_digits.xml", line.port, calls=20, rate=40, limit=20,
                      timeout_s=90)
    results: list[str] = []
    threads = []
    for _ in range(20):
        call = line.next_call(timeout=30)
        t = threading.Thread(
            target=lambda c=call: results.append(run_call(c, survey, store, pseudonymiser)),
            daemon=True,
        )
        t.start()
        threads.append(t)
    for t in threads:
        t.join(timeout=90)
    assert results == ["complete"] * 20
    calls = [r["id"] for r in store.query("SELECT id FROM calls")]
    assert len(calls) == 20
    assert all(answers(store, c) == EXPECTED for c in calls)
    assert sipp.wait(proc, timeout=90) == 0, sipp.errors()


OPERATOR_SURVEY = {
    "id": "hotline", "version": "1", "languages": ["en"],
    "states": [
        {"name": "welcome", "type": "say", "prompt": {"en": "Connecting you."}},
        {"name": "operator", "type": "connect", "noun": "number", "to": "+254700000100",
         "timeout": 10, "callCompleted": "sorry"},
        {"name": "sorry", "type": "end", "prompt": {"en": "Nobody is free."}},
    ],
}


@pytest.mark.parametrize(("final_status", "disposition", "dial_status"), [
    ("200 OK", "complete", "completed"), ("486 Busy Here", "complete", "busy")])
def test_a_survey_hands_the_caller_to_an_operator(final_status, disposition, dial_status,
                                                  sipp, make_line, store, tmp_path):
    """connect-call-to through run_call: the box sends REFER once the welcome has played;
    connected, it hangs up (SIPp checks the Refer-To and waits for the BYE); busy, the caller
    hears the survey's own "nobody is free" and then the BYE."""
    import json

    from .test_transfer import gateway

    (tmp_path / "hotline.json").write_text(json.dumps(OPERATOR_SURVEY))
    survey = load_survey(tmp_path / "hotline.json")
    line = make_line()
    proc = sipp.start(gateway(sipp, final_status), line.port, timeout_s=60)
    call = line.next_call()
    assert run_call(call, survey, store, Pseudonymiser(KEY)) == disposition
    (results,) = store.reads.call_results().values()
    assert results["widgets"]["operator"] == {"DialCallStatus": dial_status}
    kinds = [r["kind"] for r in store.query("SELECT kind FROM events ORDER BY id")]
    assert ("transferred" in kinds) == (dial_status == "completed")
    assert sipp.wait(proc) == 0, sipp.errors()
