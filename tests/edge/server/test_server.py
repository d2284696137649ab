"""CallServer: concurrency cap with the busy message, store trouble, graceful stop."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from edge.lines.simulated import SimulatedLine
from edge.privacy import Pseudonymiser
from edge.server import CallServer, SurveySource
from edge.store import Store
from edge.survey import BUILTIN_DEMO


def server(store: Store, line: SimulatedLine, pseudonymiser: Pseudonymiser,
           **kwargs: object) -> CallServer:
    srv = CallServer(store, SurveySource(BUILTIN_DEMO, store.path.parent), [line], pseudonymiser,
                     timer_scale=1 / line.speed, **kwargs)  # type: ignore[arg-type]
    srv.start()
    return srv


def test_over_the_limit_callers_hear_busy_and_are_recorded(
        store: Store, line: SimulatedLine, pseudonymiser: Pseudonymiser,
        make_script: Callable) -> None:
    srv = server(store, line, pseudonymiser, max_concurrent_calls=2)
    calls = [line.place_call(f"+2557000000{i}", make_script()) for i in range(3)]
    assert srv.wait_idle(30)
    assert srv.dispositions == {"complete": 2, "busy": 1}
    busy = [c for c in calls if [u.key for _p, us in c.played for u in us] == ["message.busy"]]
    assert len(busy) == 1 and busy[0].ended_by == "box"
    rows = store.query("SELECT disposition, count(*) AS n FROM calls GROUP BY disposition")
    assert {r["disposition"]: r["n"] for r in rows} == {"complete": 2, "busy": 1}


def test_locked_store_gives_new_callers_the_busy_message(
        tmp_path: Path, line: SimulatedLine, pseudonymiser: Pseudonymiser,
        make_script: Callable) -> None:
    store = Store.open(tmp_path, busy_timeout_s=0.2)
    srv = server(store, line, pseudonymiser)
    blocker = sqlite3.connect(tmp_path / "edgecall.db")
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        call = line.place_call("+255700000009", make_script())
        assert srv.wait_idle(30)
    finally:
        blocker.rollback()
        blocker.close()
    assert [u.key for _p, us in call.played for u in us] == ["message.busy"]
    assert srv.dispositions == {"busy": 1}
    # Once the lock is gone, calls are answered again.
    line.place_call("+255700000010", make_script())
    assert srv.wait_idle(30)
    assert srv.dispositions == {"busy": 1, "complete": 1}
    store.close()


def test_low_disk_gives_the_busy_message(store: Store, line: SimulatedLine,
                                         pseudonymiser: Pseudonymiser,
                                         make_script: Callable) -> None:
    free_mb = shutil.disk_usage(store.path.parent).free // (1024 * 1024)
    srv = server(store, line, pseudonymiser, min_free_mb=free_mb + 1024)
    line.place_call("+255700000011", make_script())
    assert srv.wait_idle(30)
    assert srv.dispositions == {"busy": 1}


def test_stop_lets_calls_finish_within_the_grace_period(
        store: Store, line: SimulatedLine, pseudonymiser: Pseudonymiser,
        make_script: Callable) -> None:
    srv = server(store, line, pseudonymiser)
    line.place_call("+255700000012", make_script())
    time.sleep(0.2)
    assert srv.stop(grace_s=30) is True
    assert srv.dispositions == {"complete": 1}


def test_after_the_grace_period_calls_are_cut_and_recorded(
        store: Store, line: SimulatedLine, pseudonymiser: Pseudonymiser,
        make_script: Callable) -> None:
    srv = CallServer(store, SurveySource(BUILTIN_DEMO), [line], pseudonymiser)  # real timeouts
    srv.start()
    call = line.place_call("+255700000013", make_script(need=["", "", ""]))
    time.sleep(0.6)
    assert srv.stop(grace_s=0.5) is False
    assert srv.active_calls == 0 and call.ended_by == "box"
    disposition = store.query("SELECT disposition FROM calls")[0]["disposition"]
    assert disposition in ("partial", "breakoff")


def test_a_pulled_survey_is_used_from_the_next_call_on(
        store: Store, line: SimulatedLine, pseudonymiser: Pseudonymiser,
        make_script: Callable) -> None:
    srv = server(store, line, pseudonymiser)
    line.place_call("+255700000014", make_script())
    assert srv.wait_idle(30)
    pulled = json.loads(BUILTIN_DEMO.read_text(encoding="utf-8"))
    pulled["version"] = "2"
    folder = store.path.parent / "surveys" / "demo-needs" / "2"
    folder.mkdir(parents=True)
    (folder / "survey.json").write_text(json.dumps(pulled), encoding="utf-8")
    (store.path.parent / "surveys" / "current.json").write_text(json.dumps(
        {"id": "demo-needs", "version": "2", "path": "demo-needs/2/survey.json"}))
    line.place_call("+255700000015", make_script())
    assert srv.wait_idle(30)
    versions = [r["survey_version"] for r in store.query(
        "SELECT survey_version FROM calls ORDER BY no")]
    assert versions == ["1", "2"]
    answer_versions = {r["survey_version"] for r in store.query(
        "SELECT a.survey_version FROM answers a JOIN calls c ON c.id = a.call_id WHERE c.no = 2")}
    assert answer_versions == {"2"}


def test_a_broken_pulled_survey_falls_back_to_the_configured_one(
        store: Store, line: SimulatedLine, pseudonymiser: Pseudonymiser,
        make_script: Callable) -> None:
    srv = server(store, line, pseudonymiser)
    surveys = store.path.parent / "surveys"
    surveys.mkdir()
    (surveys / "bad.json").write_text("{not json")
    (surveys / "current.json").write_text(json.dumps({"path": "bad.json"}))
    line.place_call("+255700000016", make_script())
    assert srv.wait_idle(30)
    assert srv.dispositions == {"complete": 1}


def test_when_busy_reject_declines_unanswered_and_records_busy(
        store: Store, line: SimulatedLine, pseudonymiser: Pseudonymiser,
        make_script: Callable) -> None:
    srv = server(store, line, pseudonymiser, max_concurrent_calls=1, when_busy="reject")
    calls = [line.place_call(f"+2557000001{i}", make_script()) for i in range(2)]
    assert srv.wait_idle(30)
    deadline = time.monotonic() + 10
    while srv.dispositions.get("busy") != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert srv.dispositions == {"complete": 1, "busy": 1}
    turned_away = calls[1]
    assert turned_away.rejected and not turned_away.answered and turned_away.played == []
    rows = store.query("SELECT disposition, count(*) AS n FROM calls GROUP BY disposition")
    assert {r["disposition"]: r["n"] for r in rows} == {"complete": 1, "busy": 1}


def test_a_flood_of_busy_callers_costs_no_thread_each(
        store: Store, line: SimulatedLine, pseudonymiser: Pseudonymiser,
        make_script: Callable) -> None:
    import threading

    for when_busy in ("reject", "message"):
        srv = server(store, line, pseudonymiser, max_concurrent_calls=1, when_busy=when_busy)
        before = threading.active_count()
        peak = 0
        calls = []
        for i in range(300):
            calls.append(line.place_call(f"+25571{i:07d}", make_script()))
            peak = max(peak, threading.active_count())
        assert peak - before < 10, (when_busy, peak, before)
        # Every caller beyond the one being served was turned away, none left ringing.
        deadline = time.monotonic() + 60
        while sum(srv.dispositions.values()) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert srv.dispositions.get("busy") == 299, (when_busy, srv.dispositions)
        assert all(c.ended_by for c in calls[1:])
        srv.stop(grace_s=30)
