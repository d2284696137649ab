"""The example surveys at the top of the repository check clean and a caller gets through
each of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.cli import main
from edge.survey import load_survey
from edge.survey.engine import CallInfo, Driver, QueueRequest, Session

EXAMPLES = Path(__file__).parents[1] / "examples"

# file -> (keys pressed per prompt in order, answers expected, disposition)
CALLS = {
    "needs-survey.json": (["2", "1", "5#", "", "2", "3", "2"],
                          {"language": "sw", "consent": "yes", "household": "5",
                           "need": "water", "water_source": "river", "callback": "no"},
                          "complete"),
    "satisfaction.json": (["1", "2", "1", "1"],
                          {"language": "en", "rating": "2", "respect": "yes",
                           "problem": "waiting"}, "complete"),
    "hotline-menu.json": (["2", "4711#"], {"menu": "case", "case_number": "4711"},
                          "complete"),
}


def test_every_example_is_listed() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.json")) == sorted(CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_example_checks_clean(name: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["survey", "check", str(EXAMPLES / name)]) == 0
    assert "warning" not in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_caller_gets_through(name: str) -> None:
    keys, answers, disposition = CALLS[name]
    survey = load_survey(EXAMPLES / name)
    driver = Driver(Session(survey, call=CallInfo("+254711000001", None, "box.1.1", "p:x")))
    presses = iter(keys)
    for _ in range(60):  # each prompt: the caller's keys ("" is silence), else let it play
        if driver.session.finished:
            break
        state = survey.states[driver.session.state_name]
        if state.kind in ("say", "end") or (driver.playing is None and driver.timer is None):
            if driver.playing is None:
                break
            driver.prompt_end()
            continue
        pressed = next(presses, None)
        assert pressed is not None, f"no keys left at {state.name}"
        driver.prompt_end()
        if pressed:
            driver.key(pressed)
        else:
            while driver.session.state_name == state.name and driver.timer is not None:
                driver.timeout()
                driver.prompt_end()
    assert {a.answer.question: a.answer.value for a in driver.answers()} == answers
    assert driver.session.disposition == disposition
    if name == "hotline-menu.json":
        requests = [a.request for a in driver.actions if isinstance(a, QueueRequest)]
        assert [(r.widget, r.body.get("to")) for r in requests] == [
            ("make-http-request", None), ("send-message", "p:x")]
