"""A Box from a config: lines built from the installed kinds, calls answered and stored,
services given the box's scheduler, a clean stop; clear errors for configs that cannot run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from edge.config import Config, parse_config
from edge.lines.simulated import SimulatedLine
from edge.plugins import all_sections
from edge.server import Box, BoxError

from ..conftest import COMPLETE


def _config(tmp_path: Path, **sections: dict) -> Config:
    raw = {"box": {"id": "t", "data_dir": str(tmp_path / "data")}, **sections}
    config = parse_config(raw, "test", all_sections())
    return Config(config.path, config.sections, {"pseudonym_key": "ab" * 32})


def test_a_box_from_config_answers_its_calls_and_stops_cleanly(tmp_path: Path) -> None:
    calls = [{"at_s": 0, "number": "+255700000001", "key_delay_s": 0.2,
              "responses": {k: list(v) for k, v in COMPLETE.items()}}]
    (tmp_path / "calls.json").write_text(json.dumps(calls))
    config = _config(tmp_path, simulated={"enabled": True, "speed": 50.0,
                                          "calls_file": str(tmp_path / "calls.json")})
    ended: list[str] = []
    box = Box(config, on_call_end=lambda _id, disposition: ended.append(disposition),
              timer_scale=1 / 50, services=False)
    assert [line.name for line in box.lines] == ["sim"]
    box.start()
    deadline = time.monotonic() + 30
    while not ended and time.monotonic() < deadline:
        time.sleep(0.05)
    assert box.healthy()
    assert box.stop() is True
    assert ended == ["complete"]
    assert not box.scheduler.running


def test_services_get_the_box_scheduler(tmp_path: Path, monkeypatch) -> None:
    seen = []

    class Recorder:
        def stop(self) -> None:
            seen.append("stopped")

    def start(context):  # type: ignore[no-untyped-def]
        seen.append(context.scheduler)
        return Recorder()

    monkeypatch.setattr("edge.server._box.service_starters", lambda: [("rec", start)])
    box = Box(_config(tmp_path), lines=[SimulatedLine("sim")]).start()
    try:
        assert seen == [box.scheduler] and box.scheduler.running
    finally:
        box.stop(grace_s=0)
    assert seen[-1] == "stopped"


def test_a_line_with_an_internal_fault_fails_the_health_check(tmp_path: Path) -> None:
    class Broken(SimulatedLine):
        def healthy(self) -> bool:
            return False

    box = Box(_config(tmp_path), lines=[Broken("sim")], services=False).start()
    try:
        assert not box.healthy()
    finally:
        box.stop(grace_s=0)


def test_no_enabled_line_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BoxError, match=r"no line is enabled.*\[simulated\]"):
        Box(_config(tmp_path))


def test_a_missing_survey_is_a_clear_error_and_releases_the_store(tmp_path: Path) -> None:
    config = _config(tmp_path, survey={"file": str(tmp_path / "nope.json")})
    with pytest.raises(BoxError, match=r"nope\.json"):
        Box(config, lines=[SimulatedLine("sim")])

