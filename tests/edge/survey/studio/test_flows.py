"""A realistic Studio flow (menus with splits, a numeric range split, a loop on timeout, a
language chosen by a variable, cloud widgets on the offline path), imported and run end to
end: callers on the simulated line, through run_call and the real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge.lines.simulated import CallerScript, SimulatedLine
from edge.privacy import Pseudonymiser
from edge.server import run_call
from edge.store import Store
from edge.survey import Survey, load_survey
from edge.survey.studio import ImportOptions, import_flow

FLOW = json.loads((Path(__file__).parents[1] / "testdata" / "studio_hotline.json")
                  .read_text(encoding="utf-8"))
CALLER = "+254711000042"


@pytest.fixture
def hotline(tmp_path: Path) -> Survey:
    imported = import_flow(FLOW, ImportOptions(offline={"make-http-request": "queue",
                                                        "send-message": "queue"}),
                           survey_id="hotline")
    path = tmp_path / "hotline.json"
    path.write_text(json.dumps(imported.survey), encoding="utf-8")
    return load_survey(path)  # the imported survey passes the checker


def call(line: SimulatedLine, survey: Survey, store: Store, pseudonymiser: Pseudonymiser,
         responses: dict[str, list[str]]) -> str:
    line.start(lambda _call: None)
    placed = line.place_call(CALLER, CallerScript(responses, key_delay_s=0.2, key_gap_s=0.05))
    return run_call(placed, survey, store, pseudonymiser, timer_scale=1 / line.speed)


def answers(store: Store) -> dict[str, tuple[str, str]]:
    return {r["question"]: (r["value"], r["language"])
            for r in store.query("SELECT question, value, language FROM answers")}


def test_a_spanish_caller_is_served_in_spanish_and_queued_work_waits_for_hq(
        hotline: Survey, line: SimulatedLine, store: Store,
        pseudonymiser: Pseudonymiser) -> None:
    disposition = call(line, hotline, store, pseudonymiser, {
        "lang_menu.prompt": ["2"], "main_menu.prompt": ["1"], "household.prompt": ["7#"]})
    assert disposition == "complete"
    # answers under readable values: the author's friendly names, the typed digits
    assert answers(store) == {"lang_menu": ("español", "en"), "main_menu": ("food", "es"),
                              "household": ("7", "es")}
    results = store.reads.call_results()
    (body,) = results.values()
    assert body["flow"]["variables"] == {"lang": "es-MX", "priority": "medium"}
    assert body["widgets"]["household"] == {"Digits": "7", "FinishedOnKey": "#"}
    assert body["widgets"]["post_results"] == {"queued": True}
    requests = {r["record_id"].split(":request:")[1]: json.loads(r["body"]) for r in store.query(
        "SELECT record_id, body FROM outbox WHERE kind = 'request'")}
    assert set(requests) == {"post_results", "sms"}
    assert json.loads(requests["post_results"]["request"]["body"]) == {
        "household": "7", "priority": "medium", "lang": "es-MX"}
    sms = requests["sms"]["request"]
    assert sms["to"] == pseudonymiser.pseudonym(CALLER)
    assert sms["body"] == "Su solicitud está registrada con prioridad medium."
    everything = json.dumps(store.query("SELECT * FROM outbox")) + json.dumps(
        store.query("SELECT * FROM events"))
    assert CALLER not in everything  # the caller's number never left the call


def test_a_silent_caller_loops_on_timeout_then_ends_no_input(
        hotline: Survey, line: SimulatedLine, store: Store,
        pseudonymiser: Pseudonymiser) -> None:
    disposition = call(line, hotline, store, pseudonymiser, {})
    assert disposition == "no-input"
    assert answers(store) == {}
    kinds = [r["kind"] for r in store.query("SELECT kind FROM events ORDER BY id")]
    assert "visit_limit" in kinds  # the reminder loop was cut, as Studio cuts such loops


def test_the_operator_and_voicemail_take_their_offline_paths(
        hotline: Survey, line: SimulatedLine, store: Store,
        pseudonymiser: Pseudonymiser) -> None:
    disposition = call(line, hotline, store, pseudonymiser, {
        "lang_menu.prompt": ["1"], "main_menu.prompt": ["3"]})
    assert disposition == "complete"
    (body,) = store.reads.call_results().values()
    assert body["widgets"]["operator"] == {"offline": True, "DialCallStatus": "failed"}
    assert body["widgets"]["voicemail"]["RecordingUrl"] == ""
    events = [(r["kind"], r["detail"]) for r in store.query("SELECT kind, detail FROM events")]
    assert any(kind == "route" and "record_unavailable" in (detail or "")
               for kind, detail in events)


def test_health_runs_past_the_function_to_the_clinic_hours(
        hotline: Survey, line: SimulatedLine, store: Store,
        pseudonymiser: Pseudonymiser) -> None:
    line.start(lambda _call: None)
    placed = line.place_call(CALLER, CallerScript(
        {"lang_menu.prompt": ["1"], "main_menu.prompt": ["2"]}, key_delay_s=0.2))
    assert run_call(placed, hotline, store, pseudonymiser, timer_scale=1 / line.speed) == \
        "complete"
    played = [u.text for _id, us in placed.played for u in us]
    assert "The clinic is open from 8 to 5." in played
    assert store.query("SELECT count(*) AS n FROM outbox WHERE kind = 'request'")[0]["n"] == 0
