"""The dispatcher inside a Box on the simulated line: missed and busy callers called back,
outcomes recorded per attempt, retries, requested callbacks, a killed dispatch recovered."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from edge.config import Config, parse_config
from edge.lines.simulated import CallerScript, SimulatedLine, SimulatedPhone
from edge.outbound import OutboundPolicy, OutboundService
from edge.plugins import all_sections
from edge.server import Box

from ..conftest import COMPLETE

SPEED = 50.0


def _config(tmp_path: Path, **outbound: object) -> Config:
    raw = {"box": {"id": "t", "data_dir": str(tmp_path / "data")},
           "server": {"max_concurrent_calls": 3},
           "outbound": {"enabled": True, "check_interval_s": 1.0, "calling_hours": "00:00-23:59",
                        "ring_timeout_s": 10.0, **outbound}}
    config = parse_config(raw, "test", all_sections())
    return Config(config.path, config.sections, {"pseudonym_key": "ab" * 32})


def _complete() -> CallerScript:
    return CallerScript({k: list(v) for k, v in COMPLETE.items()}, key_delay_s=0.2)


def _wait(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _box(tmp_path: Path, phones: Callable[[str], SimulatedPhone], **outbound: object
         ) -> tuple[Box, SimulatedLine]:
    line = SimulatedLine("sim", speed=SPEED, phones=phones)
    box = Box(_config(tmp_path, **outbound), lines=[line], timer_scale=1 / SPEED,
              services=False)
    return box.start(), line


def test_a_missed_call_is_called_back_and_runs_the_survey(tmp_path: Path) -> None:
    box, line = _box(tmp_path, lambda _n: SimulatedPhone("answers", 2.0, _complete()))
    try:
        line.place_call("+255700000001", CallerScript(hang_up_before_answer=True))
        store = box.store
        _wait(lambda: store.query("SELECT status FROM outbound") == [{"status": "done"}])
        job = store.query("SELECT kind, number, attempts, last_outcome FROM outbound")[0]
        assert job == {"kind": "missed", "number": None, "attempts": 1,
                       "last_outcome": "answered"}
        placed = store.query("SELECT disposition, attempt FROM calls WHERE attempt IS NOT NULL")
        assert placed == [{"disposition": "complete", "attempt": placed[0]["attempt"]}]
        kinds = [r.kind for r in store.reads.outbox_after(0, 1000)]
        assert "job" in kinds and "attempt" in kinds
        # Nothing that leaves the box carries the raw number.
        assert not any("700000001" in r.body for r in store.reads.outbox_after(0, 1000))
    finally:
        box.stop(grace_s=5)


def test_busy_callers_are_called_back_with_retries_per_outcome(tmp_path: Path) -> None:
    answers = iter(["busy", "no-answer", "answers"])

    def phone(_number: str) -> SimulatedPhone:
        return SimulatedPhone(next(answers), 1.0, _complete())

    box, line = _box(tmp_path, phone, retry_busy_s=0, retry_no_answer_s=0,
                     reserve_inbound=0)
    try:
        box.server.max_concurrent_calls = 1
        long_call = CallerScript({k: list(v) for k, v in COMPLETE.items()}, key_delay_s=2.0)
        line.place_call("+255700000010", long_call)
        line.place_call("+255700000011", _complete())  # finds the line busy
        store = box.store
        _wait(lambda: store.query("SELECT status FROM outbound") == [{"status": "done"}], 60)
        outcomes = [r["outcome"] for r in store.query(
            "SELECT outcome FROM outbound_attempts ORDER BY n")]
        assert outcomes == ["busy", "no-answer", "answered"]
        assert store.query("SELECT kind FROM outbound") == [{"kind": "busy"}]
    finally:
        box.stop(grace_s=5)


def test_repeated_missed_calls_give_one_job(tmp_path: Path) -> None:
    box, line = _box(tmp_path, lambda _n: SimulatedPhone("no-answer"), enabled=True,
                     calling_hours="03:00-03:01")  # never dials in this test's minute
    try:
        for _ in range(3):
            line.place_call("+255700000020", CallerScript(hang_up_before_answer=True))
        _wait(lambda: box.server.calls_taken == 3)
        assert len(box.store.query("SELECT id FROM outbound")) == 1
    finally:
        box.stop(grace_s=5)


def test_on_ring_callback_declines_then_calls_back(tmp_path: Path) -> None:
    box, line = _box(tmp_path, lambda _n: SimulatedPhone("answers", 1.0, _complete()))
    box.server.call_back_lines = {"sim"}
    try:
        ringing = line.place_call("+255700000030", _complete())
        _wait(lambda: box.store.query("SELECT status FROM outbound") == [{"status": "done"}])
        assert ringing.rejected and not ringing.answered
        dispositions = [r["disposition"] for r in box.store.query(
            "SELECT disposition FROM calls ORDER BY no")]
        assert dispositions == ["breakoff", "complete"]
    finally:
        box.stop(grace_s=5)


def test_an_attempt_cut_by_a_crash_is_failed_not_redialled(tmp_path: Path) -> None:
    # A dispatch killed after its attempt row was committed: the next start records it failed
    # and schedules the retry under a new attempt.
    box, _line = _box(tmp_path, lambda _n: SimulatedPhone("no-answer"),
                      calling_hours="03:00-03:01")
    store = box.store
    job = store.outbound.enqueue("missed", "+255700000040", "p:x")
    attempt = store.outbound.begin_attempt(job, "sim")
    assert attempt is not None
    box.stop(grace_s=1)
    box, _line = _box(tmp_path, lambda _n: SimulatedPhone("no-answer"),
                      calling_hours="03:00-03:01")
    try:
        rows = box.store.query("SELECT id, outcome FROM outbound_attempts")
        assert rows == [{"id": attempt.id, "outcome": "failed"}]
        assert box.store.query("SELECT status, attempts FROM outbound") == [
            {"status": "pending", "attempts": 1}]
    finally:
        box.stop(grace_s=1)


def test_a_line_that_cannot_dial_now_is_passed_over(tmp_path: Path) -> None:
    # A modem in a caller's call (or still ringing in) says so: the dispatcher waits rather
    # than spend an attempt that can only fail.
    box, line = _box(tmp_path, lambda _n: SimulatedPhone("answers", 1.0, _complete()))
    ready = [False]
    line.ready_to_dial = lambda: ready[0]  # type: ignore[attr-defined]
    try:
        box.store.outbound.enqueue("requested", "+255700000050", "p:y")
        box.outbound.wake()
        time.sleep(1.5)
        assert box.store.query("SELECT id FROM outbound_attempts") == []
        ready[0] = True
        _wait(lambda: box.store.query("SELECT status FROM outbound") == [{"status": "done"}])
        assert box.store.query("SELECT outcome FROM outbound_attempts") == [
            {"outcome": "answered"}]
    finally:
        box.stop(grace_s=5)


class _IdleScheduler:
    """The scheduler as the dispatcher sees it between runs: its job has no run due."""

    def get_job(self, _job_id: str) -> None:
        return None


def test_a_call_ending_during_a_tick_is_looked_at_at_once() -> None:
    # The scheduler runs one dispatcher pass at a time and skips a run asked for meanwhile;
    # a call that ends while a pass works must not leave its line idle until the next
    # check_interval_s.
    service = OutboundService(None, None, [], None, OutboundPolicy(),  # type: ignore[arg-type]
                              current_survey=lambda: None, kinds=set())  # type: ignore[arg-type, return-value]
    service._scheduler = _IdleScheduler()
    passes: list[int] = []

    def one_pass() -> None:
        passes.append(len(passes))
        if len(passes) == 1:
            service.wake()  # a placed call ends while this pass works

    service._tick = one_pass  # type: ignore[method-assign]
    service.tick()
    assert passes == [0, 1]
    service.tick()  # nothing happened meanwhile: one pass
    assert passes == [0, 1, 2]
