"""The store: stable ids, versioned records in a strictly ordered outbox, failures named."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from edge.clock import Clock
from edge.records import AnswerInput, EventInput
from edge.store import Store, StoreBusy, StoreFull


def fixed_clock() -> Clock:
    ticks = iter(range(1_000_000))
    return Clock(wall=lambda: 1_790_000_000.0 + next(ticks), mono=lambda: 100.0,
                 boot_id="boot-1", synchronised=lambda: True)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path, box_id="b1")
    yield s
    s.close()


def answer(q: str, value: str = "1") -> AnswerInput:
    return AnswerInput(q, value, value, 1, 0, 0)


def test_ids_are_stable_compact_and_unique(tmp_path: Path) -> None:
    store = Store.open(tmp_path, box_id="b1")
    first = store.begin_call("sim", "p:x", False, "s", "1")
    second = store.begin_call("sim", None, True, "s", "1")
    assert first.startswith("b1.") and first.endswith(".1") and second.endswith(".2")
    assert store.record_answer(first, answer("q1"), "en", "1") == f"{first}/q1"
    assert store.record_answer(first, answer("q1"), "en", "1") == f"{first}/q1#2"  # revisited
    store.close()
    # A wiped disk gives a new epoch, so ids never collide with those already sent.
    other = tmp_path / "other"
    again = Store.open(other, box_id="b1")
    assert again.begin_call("sim", None, True, "s", "1") != first
    again.close()


def test_outbox_sequence_is_strictly_increasing_and_never_reused(store: Store) -> None:
    call = store.begin_call("sim", "p:x", False, "s", "1")
    store.record_answer(call, answer("q1"), "en", "1")
    store.end_call(call, "complete")
    rows = store.reads.outbox_after(0)
    assert [r.seq for r in rows] == sorted({r.seq for r in rows})
    assert [(r.kind, r.version) for r in rows] == [("call", 1), ("answer", 1), ("call", 2)]
    store.db.execute("DELETE FROM outbox WHERE seq = ?", [rows[-1].seq])
    store.db.conn.commit()
    call2 = store.begin_call("sim", None, True, "s", "1")
    assert store.reads.outbox_after(0)[-1].seq > rows[-1].seq  # AUTOINCREMENT: no reuse
    assert store.reads.outbox_after(rows[0].seq, limit=1)[0].seq == rows[1].seq
    assert call2


def test_outbox_bodies_are_canonical_and_pseudonymised(store: Store) -> None:
    call = store.begin_call("sim", "p:abc", False, "s", "1")
    store.end_call(call, "breakoff")
    for row in store.reads.outbox_after(0):
        data = row.data()
        assert row.body == json.dumps(data, sort_keys=True, separators=(",", ":"),
                                      ensure_ascii=False)
        assert data["caller"] == "p:abc"
    assert store.reads.outbox_after(0)[-1].data()["disposition"] == "breakoff"


def test_records_carry_time_as_data(tmp_path: Path) -> None:
    store = Store.open(tmp_path, clock=fixed_clock(), box_id="b1")
    call = store.begin_call("sim", None, True, "s", "1")
    store.record_answer(call, answer("q1"), "en", "1")
    row = store.query("SELECT utc, mono, boot_id, clock_quality FROM answers")[0]
    assert row["utc"].endswith("Z") and row["mono"] == 100.0
    assert row["boot_id"] == "boot-1" and row["clock_quality"] == "ntp"
    store.close()


def test_end_call_records_one_disposition_only(store: Store) -> None:
    call = store.begin_call("sim", None, True, "s", "1")
    store.end_call(call, "partial", [EventInput("remote_hangup")])
    store.end_call(call, "complete")
    assert store.query("SELECT disposition FROM calls")[0]["disposition"] == "partial"
    with pytest.raises(ValueError):
        store.end_call(call, "finished")


def test_backlog_follows_the_slowest_sink(store: Store) -> None:
    call = store.begin_call("sim", None, True, "s", "1")
    store.end_call(call, "breakoff")
    assert store.reads.backlog() == 2
    store.db["outbox_acks"].insert_all([{"sink": "hq", "acked_seq": 2},
                                        {"sink": "twilio", "acked_seq": 1}])
    store.db.conn.commit()
    assert store.reads.backlog() == 1


def test_raw_number_only_in_pending_callbacks(store: Store) -> None:
    call = store.begin_call("sim", "p:abc", False, "s", "1")
    store.request_callback(call, "+255712345678")
    dump = "\n".join(store.db.conn.iterdump())
    assert dump.count("+255712345678") == 1
    assert store.query("SELECT number FROM outbound")[0]["number"] == "+255712345678"


def test_locked_database_is_named(tmp_path: Path) -> None:
    store = Store.open(tmp_path, busy_timeout_s=0.2)
    blocker = sqlite3.connect(tmp_path / "edgecall.db")
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreBusy, match="locked"):
            store.begin_call("sim", None, True, "s", "1")
        assert isinstance(store.probe(), StoreBusy)
    finally:
        blocker.rollback()
        blocker.close()
    assert store.probe() is None
    store.close()


def test_full_disk_keeps_what_was_committed(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    call = store.begin_call("sim", None, True, "s", "1")
    store.record_answer(call, answer("q1"), "en", "1")
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is now "full"
    big = AnswerInput("q2", "1", "x" * 20000, 1, 0, 0)
    with pytest.raises(StoreFull):
        store.record_answer(call, big, "en", "1")
    store.close()
    reopened = Store.open(tmp_path)
    assert [r["id"] for r in reopened.query("SELECT id FROM answers")] == [f"{call}/q1"]
    reopened.close()


def test_migrations_run_once_and_upgrade_keeps_data(tmp_path: Path) -> None:
    store = Store.open(tmp_path, box_id="b1")
    call = store.begin_call("sim", None, True, "s", "1")
    store.close()
    again = Store.open(tmp_path, box_id="b1")
    assert again.query("SELECT id FROM calls")[0]["id"] == call
    applied = again.query("SELECT name FROM _sqlite_migrations WHERE migration_set='edgecall'")
    assert [r["name"] for r in applied] == ["m001_initial", "m002_messages", "m003_outbound",
                                            "m004_call_results", "m005_audio", "m006_audio_room"]
    again.close()


def test_callbacks_asked_before_the_outbound_queue_become_requested_jobs(tmp_path: Path) -> None:
    import sqlite3 as sqlite

    from sqlite_utils import Database

    from edge.store import migrations

    db = Database(sqlite.connect(tmp_path / "edgecall.db"))
    migrations.apply(db, stop_before="m003_outbound")
    db["calls"].insert({"id": "b1.x.1", "no": 1, "line": "sim", "caller": "p:1", "withheld": 0,
                        "started_utc": "2026-01-01T00:00:00.000Z", "started_mono": 1.0,
                        "boot_id": "b", "clock_quality": "ntp"})
    db["callbacks"].insert({"call_id": "b1.x.1", "number": "+255712345678",
                            "requested_utc": "2026-01-01T00:01:00.000Z", "status": "pending"})
    db.conn.commit()
    db.conn.close()
    store = Store.open(tmp_path, box_id="b1")
    assert store.reads.pending_callbacks() == [
        {"call": "b1.x.1", "number": "+255712345678", "requested_utc": "2026-01-01T00:01:00.000Z"}]
    jobs = store.query("SELECT kind, caller, status FROM outbound")
    assert jobs == [{"kind": "requested", "caller": "p:1", "status": "pending"}]
    assert "callbacks" not in store.db.table_names()
    store.close()


def test_clock_corrections_are_stored_and_outboxed(store: Store) -> None:
    from edge.clock import ClockCorrection

    store.record_clock_correction(ClockCorrection("boot", 12.5, "2026-01-01T00:00:00.000Z",
                                                  "2024-01-01T00:00:00.000Z", "network"))
    row = store.reads.outbox_after(0)[-1]
    assert row.kind == "clock" and row.data()["mono"] == 12.5


def test_messages_are_stored_with_a_pseudonymous_sender(store: Store) -> None:
    store.record_message("p:abc", "Need water at block 4")
    row = store.query("SELECT sender, text, clock_quality FROM messages")[0]
    assert row["sender"] == "p:abc" and row["text"] == "Need water at block 4"
