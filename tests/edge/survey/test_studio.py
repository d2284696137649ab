"""A Studio flow export becomes a survey that checks clean and runs as the flow would."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from edge.cli import main
from edge.survey import compile_survey
from edge.survey._studio import StudioImportError, import_flow
from edge.survey.engine import Driver, Session

FLOW = json.loads((Path(__file__).parent / "testdata" / "studio_flow.json").read_text())


def survey_of(flow: dict) -> object:
    survey, problems = compile_survey(import_flow(flow), None)
    assert survey is not None and not [p for p in problems if p.severity == "error"], problems
    return survey


def test_widgets_map_onto_node_kinds() -> None:
    raw = import_flow(FLOW)
    kinds = {s["name"]: s["type"] for s in raw["states"]}
    assert kinds == {"welcome": "say", "menu": "choice", "people": "number",
                     "big_family": "split", "priority": "say", "goodbye": "end"}
    menu = next(s for s in raw["states"] if s["name"] == "menu")
    assert [(o["key"], o["value"], o["next"]) for o in menu["options"]] == [
        ("1", "food", "people"), ("2", "health", "goodbye")]
    assert menu["max_attempts"] == 2 and menu["on_timeout"] == "goodbye"
    assert raw["languages"] == ["en"] and raw["start"] == "welcome"


def test_the_imported_survey_runs_like_the_flow() -> None:
    driver = Driver(Session(survey_of(FLOW)))
    driver.prompt_end()  # welcome (set-variables is routed through)
    driver.key("1")  # food
    driver.key("7#")  # people: 7 -> greater than 5
    assert driver.session.state_name == "priority"
    driver.prompt_end()
    driver.prompt_end()
    assert driver.session.disposition == "complete"
    assert {a.answer.question: a.answer.value for a in driver.answers()} == {
        "menu": "food", "people": "7"}


def test_events_studio_does_not_have_are_refused() -> None:
    flow = copy.deepcopy(FLOW)
    flow["states"][3]["transitions"].append({"event": "noInput", "next": "goodbye"})
    with pytest.raises(StudioImportError) as error:
        import_flow(flow)
    assert "'noInput' is not an event of gather-input-on-call" in str(error.value)


def test_cloud_only_widgets_are_refused() -> None:
    flow = copy.deepcopy(FLOW)
    flow["states"].append({"name": "lookup", "type": "make-http-request", "transitions": [
        {"event": "success"}, {"event": "failed"}], "properties": {}})
    with pytest.raises(StudioImportError, match="needs Twilio's cloud"):
        import_flow(flow)


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    flow_path = tmp_path / "flow.json"
    flow_path.write_text(json.dumps(FLOW))
    out = tmp_path / "survey.json"
    assert main(["survey", "import-studio", str(flow_path), "--out", str(out)]) == 0
    assert main(["survey", "check", str(out)]) == 0
    bad = copy.deepcopy(FLOW)
    bad["states"][1]["transitions"][0]["next"] = "nowhere"
    flow_path.write_text(json.dumps(bad))
    capsys.readouterr()
    assert main(["survey", "import-studio", str(flow_path)]) == 1
    assert "missing state 'nowhere'" in capsys.readouterr().out
