"""End to end: the demo survey through edge.server.run_call over the simulated module, for
each profile. The simulator's scripted caller presses each answer once the module has been
silent for a moment (the question has been asked)."""

from __future__ import annotations

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


@pytest.mark.parametrize("profile", PROFILES)
def test_demo_survey_completed(rig_factory, wait, store, profile: str) -> None:
    rig = rig_factory(profile, sim_args={"tts_char_s": 0.002})
    rig.wait_ready()
    caller = rig.sim.run_caller("+255712345678", ["1", "1", "1#", "1", "2"])
    wait(lambda: rig.calls)
    disposition = run_call(rig.calls[0], load_survey(BUILTIN_DEMO), store, Pseudonymiser(KEY))
    caller.join(5)
    assert disposition == "complete"
    rows = store.query("SELECT question, value FROM answers")
    assert {r["question"]: r["value"] for r in rows} == EXPECTED
    row = store.query("SELECT caller, disposition FROM calls")[0]
    assert row["caller"] == Pseudonymiser(KEY).pseudonym("+255712345678")
    assert row["disposition"] == "complete"
    wait(lambda: rig.sim.snapshot()["call"] == "idle")  # the box hung up after the closing
    assert len(rig.sim.snapshot()["heard"]) >= 6  # the prompts reached the caller


def test_caller_hangs_up_midway(rig_factory, wait, store) -> None:
    rig = rig_factory("ec25", sim_args={"tts_char_s": 0.002})
    rig.wait_ready()
    caller = rig.sim.run_caller("+255712345678", ["1", "1"], hang_up_after_s=0.5)
    wait(lambda: rig.calls)
    disposition = run_call(rig.calls[0], load_survey(BUILTIN_DEMO), store, Pseudonymiser(KEY))
    caller.join(5)
    assert disposition in ("partial", "breakoff")
    rows = store.query("SELECT question, value FROM answers")
    assert {r["question"]: r["value"] for r in rows} == {"language": "en", "consent": "yes"}


def test_demo_bank_two_modems_two_calls(tmp_path: Path, store) -> None:
    import threading

    from edge.lines import LineContext
    from hardware.modem.simulator import ModemDemo

    calls: list = []
    got_call = threading.Condition()

    def on_call(call) -> None:
        with got_call:
            calls.append(call)
            got_call.notify_all()

    with ModemDemo(tmp_path / "bank", profile="ec25", lines=2, speed=20) as bank:
        lines = bank.lines(LineContext(tmp_path))
        for line in lines:
            line.start(on_call)
        try:
            for line in lines:
                deadline = time.monotonic() + 10
                while line.status().state != "ready":
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
            survey = load_survey(BUILTIN_DEMO)
            callers = [bank.place_call(f"+25570000000{i}", ["1", "1", "1#", "1", "2"])
                       for i in range(2)]
            assert all(callers) and bank.place_call("+255700000009", ["1"]) is None
            with got_call:
                assert got_call.wait_for(lambda: len(calls) == 2, 10)
            results: list[str] = []
            runners = [threading.Thread(target=lambda c=c: results.append(
                run_call(c, survey, store, Pseudonymiser(KEY)))) for c in calls]
            for runner in runners:
                runner.start()
            for runner in runners:
                runner.join(60)
            assert results == ["complete", "complete"]
        finally:
            for line in lines:
                line.stop()
