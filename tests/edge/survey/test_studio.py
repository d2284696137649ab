"""A Studio flow export becomes a survey that checks clean and runs as the flow would; the
command line imports, writes recordings beside the survey and fetches the ones Studio plays
from URLs."""

from __future__ import annotations

import copy
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from edge.cli import main
from edge.survey import compile_survey
from edge.survey._audio import dtmf_wav
from edge.survey._studio import StudioImportError, import_flow
from edge.survey.engine import Driver, Session

FLOW = json.loads((Path(__file__).parent / "testdata" / "studio_flow.json").read_text())


def survey_of(flow: dict) -> object:
    survey, problems = compile_survey(import_flow(flow).survey, None)
    assert survey is not None and not [p for p in problems if p.severity == "error"], problems
    return survey


def test_widgets_map_onto_node_kinds() -> None:
    raw = import_flow(FLOW).survey
    kinds = {s["name"]: s["type"] for s in raw["states"]}
    # set-variables is kept now (flow.variables work); a gather that is no menu is digits
    assert kinds == {"welcome": "say", "set_topic": "set", "menu": "choice",
                     "people": "digits", "big_family": "split", "priority": "say",
                     "goodbye": "end"}
    menu = next(s for s in raw["states"] if s["name"] == "menu")
    assert [(o["key"], o["value"], o["next"]) for o in menu["options"]] == [
        ("1", "food", "people"), ("2", "health", "goodbye")]
    assert menu["max_attempts"] == 2 and menu["on_timeout"] == "goodbye"
    assert raw["languages"] == ["en"] and raw["start"] == "welcome"


def test_the_imported_survey_runs_like_the_flow() -> None:
    driver = Driver(Session(survey_of(FLOW)))
    driver.prompt_end()  # welcome, then set_topic
    assert driver.session.variables == {"topic": "triage"}
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


def test_a_cloud_widget_no_longer_refuses_the_flow_unless_strict() -> None:
    flow = copy.deepcopy(FLOW)
    flow["states"][1]["transitions"][0]["next"] = "lookup"
    flow["states"].append({"name": "lookup", "type": "make-http-request", "transitions": [
        {"event": "success", "next": "set_topic"}, {"event": "failed", "next": "set_topic"}],
        "properties": {"method": "GET", "url": "https://crm.example.org/x"}})
    driver = Driver(Session(survey_of(flow)))
    driver.prompt_end()
    assert driver.session.widgets["lookup"] == {"offline": True, "status_code": 0}
    assert driver.session.state_name == "menu"
    from edge.survey.studio import ImportOptions

    with pytest.raises(StudioImportError, match="--strict: make-http-request"):
        import_flow(flow, ImportOptions(strict=True))


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
    assert "'nowhere' does not exist" in capsys.readouterr().out
    flow_path.write_text("")
    assert main(["survey", "import-studio", str(flow_path)]) == 1
    assert "file is empty" in capsys.readouterr().out


def test_command_line_offline_choice_and_strict(tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    flow = copy.deepcopy(FLOW)
    flow["states"][-1]["transitions"] = [{"event": "audioComplete", "next": "sms"}]
    flow["states"].append({"name": "sms", "type": "send-message", "properties": {
        "to": "{{trigger.call.From}}", "body": "Thanks"},
        "transitions": [{"event": "sent"}, {"event": "failed"}]})
    flow_path = tmp_path / "flow.json"
    flow_path.write_text(json.dumps(flow))
    out = tmp_path / "survey.json"
    assert main(["survey", "import-studio", str(flow_path), "--out", str(out),
                 "--offline", "send-message=queue"]) == 0
    sms = next(s for s in json.loads(out.read_text())["states"] if s["name"] == "sms")
    assert sms["offline"] == "queue"
    assert main(["survey", "import-studio", str(flow_path), "--strict"]) == 1
    assert "--strict: send-message needs Twilio's cloud" in capsys.readouterr().out
    assert main(["survey", "import-studio", str(flow_path), "--offline", "run-function=queue"]) \
        == 2


class _Recordings(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {
        "/ivr/welcome.wav": dtmf_wav("1"), "/ivr/empty.wav": b"",
        "/ivr/song.mp3": b"ID3\x03" + bytes(100)}

    def do_GET(self) -> None:
        data = self.files.get(self.path)
        self.send_response(200 if data is not None else 404)
        self.send_header("Content-Length", str(len(data or b"")))
        self.end_headers()
        self.wfile.write(data or b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recordings() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recordings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_play_urls_are_fetched_once_and_checked(tmp_path: Path, recordings: str,
                                                capsys: pytest.CaptureFixture) -> None:
    flow = copy.deepcopy(FLOW)
    flow["states"][1]["properties"] = {"play": f"{recordings}/ivr/welcome.wav"}
    flow_path = tmp_path / "flow.json"
    flow_path.write_text(json.dumps(flow))
    out = tmp_path / "pack" / "survey.json"
    out.parent.mkdir()
    # Before fetching: the checker says the caller would hear silence, and how to fix it.
    assert main(["survey", "import-studio", str(flow_path), "--out", str(out)]) == 1
    assert "not fetched yet" in capsys.readouterr().out
    assert main(["survey", "fetch-audio", str(out)]) == 0
    assert (tmp_path / "pack" / "audio" / "welcome.wav").read_bytes() == dtmf_wav("1")
    assert main(["survey", "check", str(out)]) == 0
    assert main(["survey", "fetch-audio", str(out)]) == 0  # cached: not fetched again
    assert "already here" in capsys.readouterr().out
    # A source that gives an empty or an MP3 file is not kept.
    survey = json.loads(out.read_text())
    survey["states"][0]["prompt"]["en"].update(audio="audio/a.wav",
                                               url=f"{recordings}/ivr/empty.wav")
    survey["states"][-1]["prompt"] = {"en": {"text": "", "audio": "audio/b.wav",
                                             "url": f"{recordings}/ivr/song.mp3"}}
    out.write_text(json.dumps(survey))
    assert main(["survey", "fetch-audio", str(out)]) == 1
    text = capsys.readouterr().out
    assert "audio/a.wav: not kept" in text and "is empty" in text
    assert "audio/b.wav: not kept" in text and "an MP3 file" in text
    assert main(["survey", "check", str(out)]) == 1


def test_studio_digits_become_a_recording_beside_the_survey(tmp_path: Path) -> None:
    flow = copy.deepcopy(FLOW)
    flow["states"][1]["properties"] = {"digits": "1234"}
    flow_path = tmp_path / "flow.json"
    flow_path.write_text(json.dumps(flow))
    out = tmp_path / "survey.json"
    assert main(["survey", "import-studio", str(flow_path), "--out", str(out)]) == 0
    assert (tmp_path / "audio" / "dtmf-welcome.wav").read_bytes() == dtmf_wav("1234")
    assert main(["survey", "import-studio", str(flow_path)]) == 2  # stdout cannot hold it
