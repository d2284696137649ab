"""``survey check`` finds each kind of defect and says where it is."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edge.cli import main
from edge.survey import BUILTIN_DEMO, check_survey
from edge.survey._audio import dtmf_wav

DEMO = json.loads(BUILTIN_DEMO.read_text(encoding="utf-8"))


def state(survey: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in survey["states"] if s["name"] == name)


def mutate(fn: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    survey = copy.deepcopy(DEMO)
    fn(survey)
    return survey


DEFECTS = {
    "transition to a missing state": (
        lambda s: state(s, "consent").update(no="nowhere"),
        "$.states[2].no", "'nowhere' does not exist"),
    "a misspelt state name, with the near miss": (
        lambda s: state(s, "consent").update(yes="houshold"),
        "$.states[2].yes", "'houshold' does not exist (did you mean 'household'?)"),
    "a condition going nowhere": (
        lambda s: state(s, "skip_children")["conditions"][0].update(next="childs"),
        "$.states[4].conditions[0].next", "'childs' does not exist (did you mean 'children'?)"),
    "state no path reaches": (
        lambda s: s["states"].insert(9, {"name": "orphan", "type": "say", "next": "thanks",
                                         "prompt": {"en": "x", "fr": "x", "ar": "x"}})
        or state(s, "callback").update(next="thanks"),
        "$.states[9]", "no path from the start reaches this state"),
    "prompt missing for a declared language": (
        lambda s: state(s, "household")["prompt"].pop("fr"),
        "$.states[3].prompt", "prompt missing for language 'fr'"),
    "choice key used twice": (
        lambda s: state(s, "need")["options"][2].update(key="1"),
        "$.states[6].options[2].key", "key '1' is used twice"),
    "unknown state type": (
        lambda s: state(s, "need").update(type="multiple-choice"),
        "$.states[6].type", "unknown type 'multiple-choice'"),
    "unknown key in a state": (
        lambda s: state(s, "need").update(num_digits=2),
        "$.states[6].num_digits", "unknown key for a choice state"),
    "opt-out key used as an answer": (
        lambda s: state(s, "need")["options"][4].update(key="*"),
        "$.states[6]", "opt-out key"),
    "number max below min": (
        lambda s: state(s, "household").update(min=10, max=5),
        "$.states[3].max", "max 5 is below min 10"),
    "prompt in an undeclared language": (
        lambda s: state(s, "intro")["prompt"].update(sw="Karibu"),
        "$.states[1].prompt.sw", "language 'sw' is not declared"),
    "template syntax error": (
        lambda s: state(s, "children")["prompt"].update(en="Of {{answers.household people"),
        "$.states[5].prompt.en.text", "template error"),
    "duplicate state name": (
        lambda s: state(s, "water_source").update(name="need"),
        "$.states[7].name", "state name 'need' is used twice"),
    "language menu offers an undeclared language": (
        lambda s: state(s, "language")["options"].update({"4": "sw"}),
        "$.states[0].options.4", "language 'sw' is not declared"),
    "say at the end falls off the survey": (
        lambda s: s["states"].append({"name": "tail", "type": "say", "prompt": {
            "en": "x", "fr": "x", "ar": "x"}}) or state(s, "callback").update(next="tail"),
        "$.states[11]", "needs a next state"),
    "loop with no way out": (
        lambda s: s["states"].insert(2, {"name": "loop", "type": "say", "prompt": {
            "en": "x", "fr": "x", "ar": "x"}, "next": "loop"}) or state(s, "intro").update(
            next="loop"),
        "$.states[2]", "can never end"),
    "bad setting": (
        lambda s: s["settings"].update(timeout=0),
        "$.settings.timeout", "expected seconds from 1 to 60"),
}


def write(tmp_path: Path, survey: dict[str, Any]) -> Path:
    path = tmp_path / "survey.json"
    path.write_text(json.dumps(survey, ensure_ascii=False), encoding="utf-8")
    return path


def test_demo_survey_is_valid() -> None:
    assert [p for p in check_survey(BUILTIN_DEMO) if p.severity == "error"] == []


@pytest.mark.parametrize("name", list(DEFECTS))
def test_each_defect_is_found_with_its_location(tmp_path: Path, name: str) -> None:
    fn, path, text = DEFECTS[name]
    problems = check_survey(write(tmp_path, mutate(fn)))
    errors = [p for p in problems if p.severity == "error"]
    assert any(p.path == path and text in p.message for p in errors), (name, errors)


def test_every_problem_is_listed_and_the_exit_code_is_1(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    def several(s: dict[str, Any]) -> None:
        for key in ("transition to a missing state", "choice key used twice",
                    "prompt missing for a declared language"):
            DEFECTS[key][0](s)

    path = write(tmp_path, mutate(several))
    assert main(["survey", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "nowhere" in out and "used twice" in out and "language 'fr'" in out
    assert "(state 'consent')" in out
    # the fourth: "declined" is no longer reachable once consent's "no" goes nowhere
    assert "invalid (4 errors" in out and "'declined'" in out


def test_valid_file_exits_0(capsys: pytest.CaptureFixture) -> None:
    assert main(["survey", "check", str(BUILTIN_DEMO)]) == 0
    assert "valid" in capsys.readouterr().out


def test_malformed_json_names_line_and_column(tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"id": "x",\n "states": [,]}', encoding="utf-8")
    assert main(["survey", "check", str(path)]) == 1
    assert "line 2 column" in capsys.readouterr().out


def test_missing_file_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["survey", "check", str(tmp_path / "nope.json")]) == 1
    out = capsys.readouterr().out
    assert "cannot read" in out and "Traceback" not in out


def test_missing_audio_with_text_is_a_warning_only(tmp_path: Path) -> None:
    survey = mutate(lambda s: state(s, "intro")["prompt"].update(
        en={"text": "Welcome", "audio": "audio/en/intro.wav"}))
    problems = check_survey(write(tmp_path, survey))
    assert [p.severity for p in problems if "intro.wav" in p.message] == ["warning"]
    assert not [p for p in problems if p.severity == "error"]


def test_audio_only_prompt_with_missing_file_is_an_error(tmp_path: Path) -> None:
    survey = mutate(lambda s: state(s, "intro")["prompt"].update(
        en={"audio": "audio/en/intro.wav"}))
    problems = check_survey(write(tmp_path, survey))
    assert any(p.severity == "error" and "intro.wav" in p.message for p in problems)


def test_audio_relative_to_the_survey_file_is_found(tmp_path: Path) -> None:
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "intro.wav").write_bytes(dtmf_wav("1"))
    survey = mutate(lambda s: state(s, "intro")["prompt"].update(
        en={"text": "Welcome", "audio": "audio/intro.wav"}))
    assert not [p for p in check_survey(write(tmp_path, survey)) if "intro.wav" in p.message]


@pytest.mark.parametrize(("content", "text"), [
    (b"", "is empty (0 bytes)"),
    (b"ID3\x03\x00" + bytes(200), "cannot be decoded: an MP3 file"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + bytes(16) + b"data\x00\x00\x00\x00",
     "cannot be decoded: WAV encoding 0"),
    (dtmf_wav("1")[:44], "has no sound in it"),
])
def test_empty_or_undecodable_audio_is_an_error_even_with_text(tmp_path: Path, content: bytes,
                                                               text: str) -> None:
    """The caller would hear silence: a zero-byte or foreign file never passes."""
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "intro.wav").write_bytes(content)
    survey = mutate(lambda s: state(s, "intro")["prompt"].update(
        en={"text": "Welcome", "audio": "audio/intro.wav"}))
    problems = [p for p in check_survey(write(tmp_path, survey)) if "intro.wav" in p.message]
    assert [p.severity for p in problems] == ["error"] and text in problems[0].message, problems


def test_audio_from_a_url_not_yet_fetched_says_how_to_fetch_it(tmp_path: Path) -> None:
    survey = mutate(lambda s: state(s, "intro")["prompt"].update(
        en={"audio": "audio/intro.wav", "url": "https://example.org/intro.wav"}))
    problems = [p for p in check_survey(write(tmp_path, survey)) if p.severity == "error"]
    assert any("not fetched yet from https://example.org/intro.wav" in p.message
               and "edgecall survey fetch-audio" in p.message for p in problems), problems


def test_check_builtin_demo_by_name(capsys: pytest.CaptureFixture) -> None:
    assert main(["survey", "check", "builtin:demo"]) == 0
    assert "builtin:demo: valid" in capsys.readouterr().out


def test_an_empty_file_says_so(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "survey.json"
    path.write_text("\n", encoding="utf-8")
    assert main(["survey", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "file -> file is empty" in out and "line 1 column 1" not in out


def test_messages_never_say_none(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Missing values are called missing, in JSON's words, never Python's None."""
    survey = {"languages": ["en"], "states": [
        {"type": "choice", "prompt": {"en": "Q"}},
        {"name": "q", "type": "choice", "prompt": {"en": "Q"}, "options": [{"key": None}]},
        {"name": "n", "type": "number", "prompt": {"en": "N"}, "min": None},
        {"name": "s", "type": "split", "conditions": [{"value": "x", "next": "q"}]},
        {"name": "t"},
        None]}
    assert main(["survey", "check", str(write(tmp_path, survey))]) == 1
    out = capsys.readouterr().out
    assert "None" not in out, out
    for text in ("id -> missing", "states[0].name -> missing", "options[0].key -> missing",
                 "states[2].max -> missing", "conditions[0].op -> missing operator",
                 "states[4].type -> missing type", "states[5] -> expected an object, got nothing"):
        assert text in out, (text, out)


def test_survey_new_writes_a_commented_starter_that_checks(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "survey.json"
    assert main(["survey", "new", "--languages", "en,ar", "--out", str(out)]) == 0
    survey = json.loads(out.read_text(encoding="utf-8"))
    assert survey["languages"] == ["en", "ar"] and "note" in survey
    assert all("note" in s for s in survey["states"] if s["type"] != "end" or
               s["name"] == "thanks")
    assert survey["states"][0]["prompt"]["ar"] == "للعربية، اضغط 2."
    assert main(["survey", "check", str(out)]) == 0
    assert main(["survey", "new", "--out", str(out)]) == 2  # never overwritten
    assert "exists" in capsys.readouterr().err
