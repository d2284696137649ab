"""End to end: the demo survey through edge.server.run_call over the simulated module, for
each profile. A caller thread presses each answer once the module has been silent for a
moment (the question has been asked)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from edge.privacy import Pseudonymiser
from edge.server import run_call
from edge.store import Store
from edge.survey import BUILTIN_DEMO, load_survey

EXPECTED = {"language": "en", "consent": "yes", "household": "1", "need": "food",
            "callback": "no"}
KEY = b"modem-test-pseudonym-key-0123456789"
PROFILES = ("sim800", "ec25", "sim7600")


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = Store.open(tmp_path / "store")
    yield opened
    opened.close()


def _caller(sim: Any, groups: list[str], stop: threading.Event) -> None:
    """Press each group of keys after the module has been quiet (no prompt) for 0.3 s."""
    for group in groups:
        quiet_since = None
        while not stop.is_set():
            with sim._lock:
                speaking = sim.model._tts_until is not None
                active = sim.model.call is not None and sim.model.call.state == "active"
            now = time.monotonic()
            if speaking or not active:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= 0.3:
                break
            time.sleep(0.02)
        sim.press(group, gap_s=0.05)
        time.sleep(0.2)


@pytest.mark.parametrize("profile", PROFILES)
def test_demo_survey_completed(rig_factory, wait, store, profile: str) -> None:
    rig = rig_factory(profile, sim_args={"tts_char_s": 0.002})
    rig.wait_ready()
    call = rig.ring("+255712345678")
    stop = threading.Event()
    caller = threading.Thread(target=_caller, args=(rig.sim, ["1", "1", "1#", "1", "2"], stop),
                              daemon=True)
    caller.start()
    try:
        disposition = run_call(call, load_survey(BUILTIN_DEMO), store, Pseudonymiser(KEY))
    finally:
        stop.set()
        caller.join(5)
    assert disposition == "complete"
    rows = store.query("SELECT question, value FROM answers")
    assert {r["question"]: r["value"] for r in rows} == EXPECTED
    row = store.query("SELECT caller, disposition FROM calls")[0]
    assert row["caller"] == Pseudonymiser(KEY).pseudonym("+255712345678")
    assert row["disposition"] == "complete"
    wait(lambda: rig.sim.snapshot()["call"] == "idle")  # the box hung up after the closing
    assert len(rig.sim.snapshot()["heard"]) >= 6  # the prompts reached the caller


def test_caller_hangs_up_midway(rig_factory, store) -> None:
    rig = rig_factory("ec25", sim_args={"tts_char_s": 0.002})
    rig.wait_ready()
    call = rig.ring("+255712345678")
    stop = threading.Event()

    def caller() -> None:
        _caller(rig.sim, ["1", "1"], stop)
        time.sleep(0.5)
        rig.sim.remote_hangup()

    thread = threading.Thread(target=caller, daemon=True)
    thread.start()
    try:
        disposition = run_call(call, load_survey(BUILTIN_DEMO), store, Pseudonymiser(KEY))
    finally:
        stop.set()
        thread.join(5)
    assert disposition in ("partial", "breakoff")
    rows = store.query("SELECT question, value FROM answers")
    assert {r["question"]: r["value"] for r in rows} == {"language": "en", "consent": "yes"}
