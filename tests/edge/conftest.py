"""Shared fixtures for edge/ tests: a real store in a temp dir, a fast simulated line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.lines.simulated import CallerScript, SimulatedLine
from edge.privacy import Pseudonymiser
from edge.store import Store
from edge.survey import BUILTIN_DEMO, load_survey

SPEED = 50.0
COMPLETE = {"language.prompt": ["1"], "consent.prompt": ["1"], "household.prompt": ["1#"],
            "need.prompt": ["1"], "callback.prompt": ["2"]}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "data", box_id="t")
    yield s
    s.close()


@pytest.fixture
def line() -> Iterator[SimulatedLine]:
    sim = SimulatedLine("sim", speed=SPEED)
    yield sim
    sim.close()


@pytest.fixture
def demo_survey():  # type: ignore[no-untyped-def]
    return load_survey(BUILTIN_DEMO)


@pytest.fixture
def pseudonymiser() -> Pseudonymiser:
    return Pseudonymiser(b"t" * 32)


def script(**overrides: list[str]) -> CallerScript:
    responses = dict(COMPLETE)
    responses.update({f"{k}.prompt": v for k, v in overrides.items()})
    return CallerScript(responses, key_delay_s=0.2, key_gap_s=0.05)


@pytest.fixture
def make_script():  # type: ignore[no-untyped-def]
    return script
