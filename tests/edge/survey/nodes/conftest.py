"""Node-kind cases as data (goflow style): testdata/<kind>.json holds a list of cases; each
puts the state under test before an end state "done", feeds events, checks the outcome."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edge.survey import compile_survey
from edge.survey.engine import (
    CallInfo,
    Connect,
    Driver,
    Note,
    QueueRequest,
    Record,
    RecordResults,
    RequestCallback,
    Session,
    StopPlayback,
    StopRecording,
)
from tests.edge.survey._script import feed

TESTDATA = Path(__file__).parent / "testdata"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """test_<kind>.py gets one test per case of testdata/<kind>.json."""
    if "case" in metafunc.fixturenames:
        kind = Path(metafunc.module.__file__).stem.removeprefix("test_")
        cases = json.loads((TESTDATA / f"{kind}.json").read_text(encoding="utf-8"))
        metafunc.parametrize("case", cases, ids=[c["description"] for c in cases])


@pytest.fixture
def run_case() -> Any:
    return _run_case


def _run_case(case: dict[str, Any]) -> None:
    languages = case.get("languages", ["en"])
    done = {"name": "done", "type": "end", "prompt": {lang: "Done" for lang in languages}}
    raw = {"id": "t", "version": "1", "languages": languages,
           "settings": case.get("settings", {}),
           "messages": {m: {lang: m for lang in languages if lang != "en"}
                        for m in ("sorry", "no_input", "refused", "busy", "error")},
           "states": [case["state"], *case.get("extra_states", []), done],
           **case.get("survey", {})}
    survey, problems = compile_survey(raw, None)
    errors = [p for p in problems if p.severity == "error"]
    if "compile_errors" in case:  # a case about what the checker says
        assert [(p.path, p.message) for p in errors] == [tuple(e) for e in case["compile_errors"]]
        return
    assert survey is not None and not errors, errors
    call = case.get("call", {})
    info = CallInfo(call.get("from"), call.get("to"), call.get("sid"), call.get("label"))
    driver = Driver(Session(survey, call=info))
    feed(driver, case["events"])
    expect = case["expect"]
    answers = {a.answer.question: a for a in driver.answers()}
    if "answers" in expect:
        assert {q: a.answer.value for q, a in answers.items()} == expect["answers"]
    for field in ("attempts", "invalid", "timeouts", "raw"):
        for question, value in expect.get(field, {}).items():
            assert getattr(answers[question].answer, field) == value, field
    if "disposition" in expect:
        assert driver.session.disposition == expect["disposition"]
    if "state" in expect:
        assert driver.session.state_name == expect["state"]
        assert driver.session.disposition is None
    if "prompts" in expect:
        assert driver.prompt_keys() == expect["prompts"]
    if "sorry_played" in expect:
        sorry = [a for a in driver.actions if hasattr(a, "utterances")
                 and a.utterances[0].key == "message.sorry"]
        assert len(sorry) == expect["sorry_played"]
    if "stopped_playback" in expect:
        assert sum(isinstance(a, StopPlayback) for a in driver.actions) == \
            expect["stopped_playback"]
    if "notes" in expect:
        kinds = [a.kind for a in driver.actions if isinstance(a, Note)]
        for kind in expect["notes"]:
            assert kind in kinds
    if "callbacks" in expect:
        assert sum(isinstance(a, RequestCallback) for a in driver.actions) == expect["callbacks"]
    if "language" in expect:
        assert driver.session.language == expect["language"]
    plays = [a for a in driver.actions if hasattr(a, "utterances")]
    if "first_play_languages" in expect:
        assert [u.language for u in plays[0].utterances] == expect["first_play_languages"]
    if "last_play_language" in expect:
        assert plays[-1].utterances[-1].language == expect["last_play_language"]

    if "spoken" in expect:  # (language, text) of every utterance played, in order
        assert [[u.language, u.text] for p in plays for u in p.utterances] == expect["spoken"]
    if "variables" in expect:
        assert driver.session.variables == expect["variables"]
    if "widgets" in expect:
        for name, outputs in expect["widgets"].items():
            assert driver.session.widgets[name] == outputs, name
    results = [a.results for a in driver.actions if isinstance(a, RecordResults)]
    if "results" in expect:  # the stored versions: [version, widgets, variables] of the last
        assert len(results) == expect["results"]["versions"]
        if results:
            last = results[-1]
            assert last.version == len(results)
            for key in ("widgets", "variables"):
                if key in expect["results"]:
                    assert getattr(last, key) == expect["results"][key], key
    requests = [a.request for a in driver.actions if isinstance(a, QueueRequest)]
    if "requests" in expect:
        assert [{"state": r.state, "visit": r.visit, "widget": r.widget, "body": r.body}
                for r in requests] == expect["requests"]
    if "records" in expect:  # what the line was asked to record
        assert [{"state": a.state, "visit": a.visit, "max_s": a.max_s, "silence_s": a.silence_s,
                 "finish_keys": a.finish_keys}
                for a in driver.actions if isinstance(a, Record)] == expect["records"]
    if "connects" in expect:  # what the line was asked to transfer: [state, number, seconds]
        assert [[a.state, a.number, a.timeout_s] for a in driver.actions
                if isinstance(a, Connect)] == expect["connects"]
    if "stopped_recording" in expect:
        assert sum(isinstance(a, StopRecording) for a in driver.actions) == \
            expect["stopped_recording"]
    if "audio" in expect:  # question -> [reference, seconds] of recorded answers
        assert {q: [a.audio.reference, a.audio.seconds] for q, a in answers.items()
                if a.audio is not None} == expect["audio"]
    if "route" in expect:  # events the route states took, in order
        assert [a.detail["event"] for a in driver.actions
                if isinstance(a, Note) and a.kind == "route"] == expect["route"]
    number = call.get("from")
    if number:  # the raw number never leaves the engine except to be spoken
        for action in driver.actions:
            if not hasattr(action, "utterances"):
                assert number not in repr(action), action
