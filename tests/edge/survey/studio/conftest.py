"""Studio widget cases as data: testdata/<widget>.json holds a list of cases. Each gives the
flow's widgets (a trigger to the first is added), import options, what the import gives
(states, problems, files) and, optionally, a call through the imported survey."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edge.survey import compile_survey
from edge.survey.engine import CallInfo, Driver, Note, QueueRequest, Record, Session
from edge.survey.studio import ImportOptions, StudioImportError, import_flow
from tests.edge.survey._script import feed

TESTDATA = Path(__file__).parent / "testdata"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        widget = Path(metafunc.module.__file__).stem.removeprefix("test_").replace("_", "-")
        cases = json.loads((TESTDATA / f"{widget}.json").read_text(encoding="utf-8"))
        metafunc.parametrize("case", cases, ids=[c["description"] for c in cases])


@pytest.fixture
def run_case() -> Any:
    return _run_case


def flow_of(widgets: list[dict[str, Any]]) -> dict[str, Any]:
    trigger = {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}},
               "transitions": [{"event": "incomingMessage"},
                               {"event": "incomingCall", "next": widgets[0]["name"]},
                               {"event": "incomingRequest"}]}
    return {"description": "test flow", "states": [trigger, *widgets],
            "initial_state": "Trigger", "flags": {"allow_concurrent_calls": True}}


def _subset(actual: Any, expected: Any, where: str) -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), (where, actual)
        for key, value in expected.items():
            assert key in actual, (where, key, actual)
            _subset(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (where, actual)
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _subset(a, e, f"{where}[{i}]")
    else:
        assert actual == expected, (where, actual, expected)


def _run_case(case: dict[str, Any]) -> None:
    options = ImportOptions(**case.get("options", {}))
    expect = case["expect"]
    try:
        imported = import_flow(flow_of(case["widgets"]), options)
    except StudioImportError as exc:
        assert "problems" in expect, exc.problems
        found = [(p.path, p.message) for p in exc.problems]
        for path, text in expect["problems"]:
            assert any(p == path and text in m for p, m in found), found
        return
    assert "problems" not in expect, "the import was expected to be refused"
    states = {s["name"]: s for s in imported.survey["states"]}
    for name, subset in expect.get("states", {}).items():
        if subset is None:
            assert name not in states, name
        else:
            _subset(states[name], subset, name)
    for key in ("languages", "start"):
        if key in expect:
            assert imported.survey[key] == expect[key]
    if "files" in expect:
        assert sorted(imported.files) == expect["files"]
    if "warnings" in expect:
        texts = [p.message for p in imported.warnings]
        for text in expect["warnings"]:
            assert any(text in t for t in texts), texts
    survey, problems = compile_survey(imported.survey, None)
    errors = [p for p in problems if p.severity == "error"
              and not p.message.startswith("audio file")]  # recordings are not fetched here
    assert survey is not None and not errors, errors
    if "call" in case:
        _call(survey, case["call"])


def _call(survey: Any, call: dict[str, Any]) -> None:
    info = CallInfo(call.get("from"), call.get("to"), "box.a1.1", call.get("label"))
    driver = Driver(Session(survey, call=info))
    feed(driver, call["events"])
    expect = call["expect"]
    if "answers" in expect:
        assert {a.answer.question: a.answer.value for a in driver.answers()} == expect["answers"]
    if "disposition" in expect:
        assert driver.session.disposition == expect["disposition"]
    if "state" in expect:
        assert driver.session.state_name == expect["state"]
    if "records" in expect:  # (state, max_s, silence_s, finish_keys) the line was asked for
        assert [[a.state, a.max_s, a.silence_s, a.finish_keys] for a in driver.actions
                if isinstance(a, Record)] == expect["records"]
    if "variables" in expect:
        assert driver.session.variables == expect["variables"]
    if "spoken" in expect:
        assert [[u.language, u.text] for a in driver.actions if hasattr(a, "utterances")
                for u in a.utterances] == expect["spoken"]
    if "route" in expect:
        assert [a.detail["event"] for a in driver.actions
                if isinstance(a, Note) and a.kind == "route"] == expect["route"]
    if "notes" in expect:
        kinds = [a.kind for a in driver.actions if isinstance(a, Note)]
        assert all(kind in kinds for kind in expect["notes"]), kinds
    if "requests" in expect:
        assert [(a.request.state, a.request.widget) for a in driver.actions
                if isinstance(a, QueueRequest)] == [tuple(r) for r in expect["requests"]]
