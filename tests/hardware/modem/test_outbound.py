"""Calling people back through a modem (issue #12): a Box with [outbound] on and a modem line on
the simulator, the dispatcher dialling through the real driver over the pty. A caller who rings
off is called back and answers the survey; a line with ``on_ring = "callback"`` declines and
calls back; a queued callback to a busy number is retried."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from edge.config import Config, parse_config
from edge.plugins import all_sections
from edge.server import Box
from hardware.modem import ModemLine, ModemSettings
from hardware.modem.simulator import ModemSimulator, SimPhone

CALLER = "+255700000321"
ANSWERS = ("1", "1", "1#", "1", "2")  # en, consent yes, 1 person, food, no callback
EXPECTED = {"language": "en", "consent": "yes", "household": "1", "need": "food",
            "callback": "no"}


def _wait(condition: Callable[[], object], seconds: float = 40.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _config(tmp_path: Path, **outbound: object) -> Config:
    raw = {"box": {"id": "t", "data_dir": str(tmp_path / "data")},
           "server": {"max_concurrent_calls": 2},
           "outbound": {"enabled": True, "check_interval_s": 1.0,
                        "calling_hours": "00:00-23:59", "ring_timeout_s": 15.0,
                        "reserve_inbound": 0, **outbound}}
    config = parse_config(raw, "test", all_sections())
    return Config(config.path, config.sections, {"pseudonym_key": "ab" * 32})


def _box(tmp_path: Path, sim: ModemSimulator, *, on_ring: str = "answer",
         **outbound: object) -> tuple[Box, ModemLine]:
    line = ModemLine(ModemSettings(port=sim.path, profile=sim.profile, name="modem0",
                                   status_poll_s=2.0, clcc_poll_s=1.0, on_ring=on_ring))
    box = Box(_config(tmp_path, **outbound), lines=[line], services=False)
    box.start()
    _wait(lambda: line.status().state == "ready", 15)
    return box, line


def _answers(box: Box) -> dict[str, str]:
    rows = box.store.query("SELECT question, value FROM answers")
    return {r["question"]: r["value"] for r in rows}


def test_a_caller_who_rings_off_is_called_back_and_answers(tmp_path: Path) -> None:
    with ModemSimulator("sim800", link=tmp_path / "tty", ring_interval=0.5,
                        tts_char_s=0.002) as sim:
        sim.set_phone(CALLER, SimPhone("answers", rings=1, keys=ANSWERS))
        box, _line = _box(tmp_path, sim)
        try:
            sim.incoming_call(CALLER, rings=1)  # one RING, then the caller hangs up
            store = box.store
            _wait(lambda: store.query("SELECT status FROM outbound") == [{"status": "done"}])
            job = store.query("SELECT kind, number, attempts, last_outcome FROM outbound")[0]
            assert job == {"kind": "missed", "number": None, "attempts": 1,
                           "last_outcome": "answered"}
            calls = store.query("SELECT disposition, attempt FROM calls ORDER BY no")
            assert [c["disposition"] for c in calls] == ["breakoff", "complete"]
            assert calls[0]["attempt"] is None and calls[1]["attempt"] is not None
            assert _answers(box) == EXPECTED
            assert sim.snapshot()["dialled"] == [CALLER]
            assert "ATA" not in sim.model.commands_seen[:sim.model.commands_seen.index(
                f"ATD{CALLER};")]  # the missed call was never picked up
        finally:
            box.stop(grace_s=5)


def test_on_ring_callback_declines_unanswered_then_calls_back(tmp_path: Path) -> None:
    with ModemSimulator("ec25", link=tmp_path / "tty", ring_interval=0.5,
                        tts_char_s=0.002) as sim:
        sim.set_phone(CALLER, SimPhone("answers", rings=1, keys=ANSWERS))
        box, _line = _box(tmp_path, sim, on_ring="callback")
        try:
            sim.incoming_call(CALLER)  # rings on: the box declines it
            store = box.store
            _wait(lambda: store.query("SELECT status FROM outbound") == [{"status": "done"}])
            seen = sim.model.commands_seen
            before_dial = seen[:seen.index(f"ATD{CALLER};")]
            assert "ATA" not in before_dial and "AT+CHUP" in before_dial  # caller paid nothing
            dispositions = [r["disposition"] for r in store.query(
                "SELECT disposition FROM calls ORDER BY no")]
            assert dispositions == ["breakoff", "complete"]
            assert _answers(box) == EXPECTED
        finally:
            box.stop(grace_s=5)


def test_a_busy_callee_is_tried_again(tmp_path: Path) -> None:
    with ModemSimulator("sim7600", link=tmp_path / "tty", ring_interval=0.5,
                        tts_char_s=0.002) as sim:
        sim.set_phone(CALLER, SimPhone("busy"))
        box, _line = _box(tmp_path, sim, retry_busy_s=0)
        try:
            job = box.store.outbound.enqueue("requested", CALLER, "p:x")
            box.outbound.wake()
            _wait(lambda: box.store.query(
                "SELECT outcome FROM outbound_attempts WHERE outcome IS NOT NULL"))
            sim.set_phone(CALLER, SimPhone("answers", rings=1, keys=ANSWERS))
            _wait(lambda: box.store.query("SELECT status FROM outbound") == [
                {"status": "done"}])
            outcomes = [r["outcome"] for r in box.store.query(
                "SELECT outcome FROM outbound_attempts ORDER BY n")]
            assert outcomes[0] == "busy" and outcomes[-1] == "answered"
            assert job is not None and _answers(box) == EXPECTED
        finally:
            box.stop(grace_s=5)
