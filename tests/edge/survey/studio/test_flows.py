"""A realistic Studio flow (menus with splits, a numeric range split, a loop on timeout, a
language chosen by a variable, cloud widgets on the offline path), imported and run end to
end: callers on the simulated line, through run_call and the real store."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from edge.lines import recording_problem
from edge.lines.simulated import CallerScript, SimulatedLine, SimulatedPhone
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
    line.records = False  # a line that cannot record (voicemail then takes noAudio)
    line.transfers = False  # nor transfer (the operator then takes callCompleted, failed)
    disposition = call(line, hotline, store, pseudonymiser, {
        "lang_menu.prompt": ["1"], "main_menu.prompt": ["3"]})
    assert disposition == "complete"
    (body,) = store.reads.call_results().values()
    assert body["widgets"]["operator"] == {"offline": True, "DialCallStatus": "failed"}
    assert body["widgets"]["voicemail"]["RecordingUrl"] == ""
    events = [(r["kind"], r["detail"]) for r in store.query("SELECT kind, detail FROM events")]
    assert any(kind == "route" and "record_unavailable" in (detail or "")
               for kind, detail in events)


def test_the_operator_answers_and_the_caller_is_handed_over(
        hotline: Survey, line: SimulatedLine, store: Store,
        pseudonymiser: Pseudonymiser) -> None:
    """connect-call-to on a line that transfers: the operator's phone answers, the caller is
    connected, the box leaves the call; no voicemail, the results say completed."""
    line.phones = lambda number: SimulatedPhone(ring_s=2.0)
    line.start(lambda _call: None)
    placed = line.place_call(CALLER, CallerScript(
        {"lang_menu.prompt": ["1"], "main_menu.prompt": ["3"]}, key_delay_s=0.2))
    disposition = run_call(placed, hotline, store, pseudonymiser, timer_scale=1 / line.speed)
    assert disposition == "complete"
    assert placed.transferred_to == ["+254700000100"]
    (body,) = store.reads.call_results().values()
    assert body["widgets"]["operator"] == {"DialCallStatus": "completed"}
    assert "voicemail" not in body["widgets"]
    kinds = [r["kind"] for r in store.query("SELECT kind FROM events ORDER BY id")]
    assert "transferred" in kinds and "transfer" in kinds
    assert not store.reads.audio()


def test_a_busy_operator_sends_the_caller_to_voicemail(
        hotline: Survey, line: SimulatedLine, store: Store,
        pseudonymiser: Pseudonymiser) -> None:
    line.phones = lambda number: SimulatedPhone(behaviour="busy")
    line.records = False
    disposition = call(line, hotline, store, pseudonymiser, {
        "lang_menu.prompt": ["1"], "main_menu.prompt": ["3"]})
    assert disposition == "complete"
    (body,) = store.reads.call_results().values()
    assert body["widgets"]["operator"] == {"DialCallStatus": "busy"}
    assert body["widgets"]["voicemail"]["RecordingUrl"] == ""  # callCompleted -> voicemail


def test_a_caller_leaves_a_voicemail_in_spanish_kept_as_an_answer_with_its_file(
        hotline: Survey, line: SimulatedLine, store: Store,
        pseudonymiser: Pseudonymiser) -> None:
    """record-voicemail end to end: the operator cannot be reached, the caller hears the
    Spanish intro and the tone, speaks for 4 seconds and presses hash; the message is a real
    file, its answer and audio record are committed, the flow goes on to the goodbye."""
    line.phones = lambda number: SimulatedPhone(behaviour="no-answer")
    line.start(lambda _call: None)
    placed = line.place_call(CALLER, CallerScript(
        {"lang_menu.prompt": ["2"], "main_menu.prompt": ["3"],
         "voicemail_intro.prompt": ["SPEAK:4;#"]}, key_delay_s=0.2))
    assert run_call(placed, hotline, store, pseudonymiser, timer_scale=1 / line.speed) == \
        "complete"
    (answer,) = store.query("SELECT * FROM answers WHERE question = 'voicemail'")
    (audio,) = store.reads.audio()
    assert answer["value"] == audio["reference"] == f"{audio['call_id']}/voicemail.wav"
    assert answer["raw"] == "#" and answer["language"] == "es"
    path = store.recordings.path_of(audio["reference"])
    assert recording_problem(path) is None
    assert audio["bytes"] == path.stat().st_size
    assert audio["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert 3.9 <= audio["seconds"] <= 4.5
    (body,) = store.reads.call_results().values()
    assert body["widgets"]["voicemail"] == {"RecordingUrl": audio["reference"],
                                           "RecordingDuration": "4", "Digits": "#"}
    played = [u.text for _id, us in placed.played for u in us]
    assert played[-2:] == ["beep", "Gracias por llamar. Adiós."]
    record = json.loads(store.query("SELECT body FROM outbox WHERE kind = 'audio'")[0]["body"])
    assert record["id"] == audio["reference"] and record["sha256"] == audio["sha256"]
    assert CALLER not in json.dumps(record)


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
