"""The recordings a survey can play, as lines that keep prompts on their hardware are given
them (``LineContext.extras["recordings"]``): keyed as the engine keys its utterances."""

from __future__ import annotations

import json
from pathlib import Path

from edge.server._surveys import survey_recordings
from edge.survey import BUILTIN_DEMO, load_survey
from edge.survey._audio import dtmf_wav


def test_recordings_of_states_and_messages(tmp_path: Path) -> None:
    raw = json.loads(BUILTIN_DEMO.read_text(encoding="utf-8"))
    (tmp_path / "audio").mkdir()
    for name in ("intro.wav", "sorry.wav"):
        (tmp_path / "audio" / name).write_bytes(dtmf_wav("1"))
    intro = next(s for s in raw["states"] if s["name"] == "intro")
    intro["prompt"]["en"] = {"text": intro["prompt"]["en"], "audio": "audio/intro.wav"}
    raw["messages"]["sorry"]["fr"] = {"text": raw["messages"]["sorry"]["fr"],
                                      "audio": "audio/sorry.wav"}
    path = tmp_path / "survey.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    found = survey_recordings(load_survey(path))
    assert sorted(found) == [("intro.prompt", "en", tmp_path / "audio" / "intro.wav"),
                             ("message.sorry", "fr", tmp_path / "audio" / "sorry.wav")]
    assert survey_recordings(load_survey(BUILTIN_DEMO)) == []


def test_lines_from_the_config_are_given_the_recordings(tmp_path: Path) -> None:
    from edge.clock import Clock
    from edge.config import Config, parse_config
    from edge.plugins import all_sections
    from edge.server import build_lines

    raw = {"box": {"id": "t", "data_dir": str(tmp_path / "data")},
           "modem": {"port": str(tmp_path / "no-such-tty")}}
    parsed = parse_config(raw, "test", all_sections())
    config = Config(parsed.path, parsed.sections, {"pseudonym_key": "ab" * 32})

    def recordings() -> list[tuple[str, str, Path]]:
        return []

    (line,) = build_lines(config, Clock(), recordings=recordings)
    assert line.context.extras["recordings"] is recordings  # type: ignore[attr-defined]
