"""Fixtures for the status page tests: a real store filled through the Store API (and one
call through the real call runner), with calls today, earlier this week and before it;
expected figures are counted straight from the SQLite file, not through edge.stats."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edge.clock import Clock
from edge.lines import LineStatus
from edge.lines.simulated import SimulatedLine
from edge.privacy import Pseudonymiser
from edge.records import AnswerInput, EventInput
from edge.server import run_call
from edge.stats import day_and_week_starts
from edge.store import Store
from edge.survey import Survey

NUMBER = "+255712345678"  # stored raw on purpose in some rows: it must never be shown
PASSWORD = "correct horse 🐎 battery"
DAY_S = 86400.0


class SignalLine:
    """A line reporting what a modem reports (state, signal in dBm and words)."""

    name = "gsm0"

    def status(self) -> LineStatus:
        return LineStatus("gsm0", "modem", "degraded", "registered, roaming",
                          {"signal_dbm": -101, "signal": "weak", "registered": True})


@dataclass
class Filled:
    store: Store
    db_path: Path
    clock: Clock
    lines: tuple[Any, ...]


def _call(store: Store, survey: str | None, disposition: str | None,
          events: tuple[EventInput, ...] = ()) -> str:
    call_id = store.begin_call("gsm0", NUMBER, False, survey, "1")
    store.record_answer(call_id, AnswerInput("consent", "1", "yes", 1, 0, 0), "en", "1")
    if disposition is not None:
        store.end_call(call_id, disposition, events)
    return call_id


@pytest.fixture
def filled(tmp_path: Path, demo_survey: Survey, make_script: Any) -> Iterator[Filled]:
    shift = [0.0]
    clock = Clock(wall=lambda: time.time() + shift[0], synchronised=lambda: shift[0] == 0.0)
    store = Store.open(tmp_path / "data", clock=clock, box_id="t")
    # Before this week: must not count anywhere.
    shift[0] = -10 * DAY_S
    for _ in range(4):
        _call(store, "demo", "complete")
    # Earlier this week (not today).
    shift[0] = -3 * DAY_S
    _call(store, "demo", "complete")
    _call(store, "demo", "complete")
    _call(store, "demo", "breakoff")
    _call(store, "water", "no-input")
    # Today.
    shift[0] = 0.0
    for disposition in ("complete", "complete", "partial", "refused"):
        _call(store, "demo", disposition)
    _call(store, "demo", "error", (EventInput("store_error", {"error": "disk I/O error"}),))
    _call(store, "demo", None)  # still running
    _call(store, "water", "complete")
    _call(store, "water", "busy")
    store.add_events(None, [EventInput("line_error", {"error": f"modem said {NUMBER}"})])
    # One call through the real runner and engine (the demo survey), like the server does.
    line = SimulatedLine("sim", speed=50.0)
    try:
        line.start(lambda _call: None)
        call = line.place_call(NUMBER, make_script())
        disposition = run_call(call, demo_survey, store, Pseudonymiser(b"k" * 32),
                               timer_scale=1 / line.speed)
        assert disposition == "complete"
        # Pretend one sync sink acknowledged the first 5 outbox records (sync's own table).
        with sqlite3.connect(tmp_path / "data" / "edgecall.db") as conn:
            conn.execute("INSERT INTO outbox_acks (sink, acked_seq, updated_utc)"
                         " VALUES ('hq', 5, '2026-01-01T00:00:00.000Z')")
        yield Filled(store, store.path, clock, (line, SignalLine()))
    finally:
        line.close()
        store.close()


def expected(db_path: Path) -> dict[str, Any]:
    """The figures the page must show, counted with plain SQL on the file."""
    today, week = day_and_week_starts()
    conn = sqlite3.connect(db_path)
    try:
        def one(sql: str, *params: Any) -> Any:
            return conn.execute(sql, params).fetchone()[0]

        def by_disposition(since: str) -> dict[str, int]:
            return dict(conn.execute(
                "SELECT disposition, count(*) FROM calls WHERE started_utc >= ?"
                " AND disposition IS NOT NULL GROUP BY disposition", [since]).fetchall())

        acked = one("SELECT coalesce(min(acked_seq), 0) FROM outbox_acks")
        return {
            "calls_today": one("SELECT count(*) FROM calls WHERE started_utc >= ?", today),
            "calls_week": one("SELECT count(*) FROM calls WHERE started_utc >= ?", week),
            "in_progress_today": one("SELECT count(*) FROM calls WHERE started_utc >= ?"
                                     " AND disposition IS NULL", today),
            "today": by_disposition(today),
            "week": by_disposition(week),
            "backlog": one("SELECT count(*) FROM outbox WHERE seq > ?", acked),
            "survey_week": dict(conn.execute(
                "SELECT survey_id, count(*) FROM calls WHERE started_utc >= ?"
                " GROUP BY survey_id", [week]).fetchall()),
            "survey_today": dict(conn.execute(
                "SELECT survey_id, count(*) FROM calls WHERE started_utc >= ?"
                " GROUP BY survey_id", [today]).fetchall()),
        }
    finally:
        conn.close()


@pytest.fixture
def count() -> Any:
    """``count(db_path)``: the expected figures (a fixture: tests import no test module)."""
    return expected
