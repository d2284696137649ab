"""The durable store: one SQLite file (WAL) shared by the server's call threads.

Durability: ``synchronous=FULL``. In WAL mode NORMAL survives a crash of the process but can
lose the last commits on power loss, which is common where boxes run; FULL fsyncs the WAL on
every commit, so an answer whose commit returned survives both. The cost is one fsync per
answer (see bench/keypress_latency.py), paid before the next prompt starts.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from edge.clock import Clock, ClockCorrection, Stamp
from edge.records import AnswerInput, EventInput, RequestInput, ResultsInput, canonical_json

from ._migrations import migrations
from ._outbound import OutboundStore
from ._reads import StoreReads

DB_NAME = "edgecall.db"

DISPOSITIONS = ("complete", "partial", "breakoff", "no-input", "refused", "error", "busy")


class StoreUnavailable(Exception):
    """The database cannot take writes now (locked, disk full, read-only). Committed data is
    intact; the server answers new calls with the busy prompt until a probe succeeds."""


class StoreBusy(StoreUnavailable):
    pass


class StoreFull(StoreUnavailable):
    pass


_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED
_FULL_CODES = {13}  # SQLITE_FULL


def _translate(exc: sqlite3.Error) -> StoreUnavailable | None:
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc).lower()
    if code is not None:
        code &= 0xFF  # extended codes carry the primary code in the low byte
    if code in _BUSY_CODES or "locked" in text or "busy" in text:
        return StoreBusy(f"database is locked by another process ({exc})")
    if code in _FULL_CODES or "full" in text:
        return StoreFull(f"disk is full ({exc})")
    if code in (8, 10, 14) or "readonly" in text or "disk i/o" in text:
        return StoreUnavailable(f"database cannot be written ({exc})")
    return None


class Store:
    def __init__(self, db: Database, path: Path, clock: Clock, box_id: str) -> None:
        self.db = db
        self.path = path
        self.clock = clock
        self.box_id = box_id
        self._lock = threading.RLock()
        self._epoch = self._meta("epoch")
        self.reads = StoreReads(db.conn, self._lock)
        self.outbound = OutboundStore(self)

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        data_dir: Path,
        clock: Clock | None = None,
        box_id: str = "box",
        busy_timeout_s: float = 5.0,
        extra_migrations: Sequence[Any] = (),
    ) -> Store:
        """Open (creating and migrating) ``data_dir/edgecall.db``."""
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / DB_NAME
        try:
            conn = sqlite3.connect(str(path), timeout=busy_timeout_s, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            db = Database(conn, execute_plugins=False)
            for migration_set in (migrations, *extra_migrations):
                migration_set.apply(db)
        except sqlite3.Error as exc:
            raise _translate(exc) or StoreUnavailable(f"{path}: {exc}") from exc
        return cls(db, path, clock or Clock(), box_id)

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()

    @contextmanager
    def _write(self) -> Iterator[Database]:
        """One transaction, serialised across threads; SQLite errors become StoreUnavailable."""
        with self._lock:
            try:
                with self.db.atomic():
                    yield self.db
            except sqlite3.Error as exc:
                translated = _translate(exc)
                if translated is None:
                    raise
                raise translated from exc

    def _meta(self, key: str) -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0]

    def _outbox(self, db: Database, record_id: str, version: int, kind: str,
                body: dict[str, Any], stamp: Stamp) -> None:
        db.execute(
            "INSERT INTO outbox (record_id, version, kind, body, created_utc)"
            " VALUES (?, ?, ?, ?, ?)",
            [record_id, version, kind, canonical_json(body), stamp.utc],
        )

    def _events(self, db: Database, call_id: str | None, events: Sequence[EventInput],
                stamp: Stamp) -> None:
        if events:
            db.execute("SELECT 1")  # keeps the same transaction
            db.conn.executemany(
                "INSERT INTO events (call_id, kind, detail, utc, mono) VALUES (?, ?, ?, ?, ?)",
                [
                    (call_id, e.kind, json.dumps(e.detail) if e.detail else None, stamp.utc,
                     stamp.mono)
                    for e in events
                ],
            )

    # -- calls ---------------------------------------------------------------------------
    def begin_call(
        self,
        line: str,
        caller: str | None,
        withheld: bool,
        survey_id: str | None,
        survey_version: str | None,
        events: Sequence[EventInput] = (),
        attempt: str | None = None,
    ) -> str:
        """Create the call's row with its stable id and return the id (committed).
        ``attempt``: the outbound attempt that placed it (None for a call that came in)."""
        stamp = self.clock.now()
        with self._write() as db:
            no = int(self._meta("next_call_no"))
            db.execute("UPDATE meta SET value = ? WHERE key = 'next_call_no'", [str(no + 1)])
            call_id = f"{self.box_id}.{self._epoch}.{no}"
            row = {
                "id": call_id, "no": no, "line": line, "caller": caller,
                "withheld": int(withheld), "survey_id": survey_id,
                "survey_version": survey_version, "language": None,
                "started_utc": stamp.utc, "started_mono": stamp.mono, "boot_id": stamp.boot_id,
                "clock_quality": stamp.quality, "answered": 0, "version": 1, "attempt": attempt,
            }
            db["calls"].insert(row)
            self._outbox(db, call_id, 1, "call", _call_body(row), stamp)
            self._events(db, call_id, [EventInput("started"), *events], stamp)
        return call_id

    def record_answer(
        self,
        call_id: str,
        answer: AnswerInput,
        language: str | None,
        survey_version: str | None,
        events: Sequence[EventInput] = (),
        sets_language: bool = False,
    ) -> str:
        """Commit one answer (and the events since the last write). Returns when durable."""
        stamp = self.clock.now()
        with self._write() as db:
            visit = 1 + db.execute(
                "SELECT count(*) FROM answers WHERE call_id = ? AND question = ?",
                [call_id, answer.question],
            ).fetchone()[0]
            answer_id = f"{call_id}/{answer.question}" + (f"#{visit}" if visit > 1 else "")
            row = {
                "id": answer_id, "call_id": call_id, "question": answer.question,
                "visit": visit, "raw": answer.raw, "value": answer.value,
                "attempts": answer.attempts, "invalid": answer.invalid,
                "timeouts": answer.timeouts, "survey_version": survey_version,
                "language": language, "utc": stamp.utc, "mono": stamp.mono,
                "boot_id": stamp.boot_id, "clock_quality": stamp.quality,
            }
            db["answers"].insert(row)
            if sets_language:
                db.execute("UPDATE calls SET language = ? WHERE id = ?", [answer.value, call_id])
            else:
                db.execute("UPDATE calls SET answered = answered + 1 WHERE id = ?", [call_id])
            self._outbox(db, answer_id, 1, "answer", _answer_body(row), stamp)
            self._events(db, call_id, events, stamp)
        return answer_id

    def record_results(self, call_id: str, results: ResultsInput,
                       events: Sequence[EventInput] = ()) -> str:
        """Commit a version of the call's results (record ``<call>:results``). Returns when
        durable."""
        stamp = self.clock.now()
        record_id = f"{call_id}:results"
        body = {"id": record_id, "call": call_id, "widgets": results.widgets,
                "flow": {"variables": results.variables}, "utc": stamp.utc, "mono": stamp.mono,
                "boot": stamp.boot_id, "clock": stamp.quality}
        with self._write() as db:
            db["call_results"].upsert({"call_id": call_id, "version": results.version,
                                       "body": canonical_json(body), "utc": stamp.utc},
                                      pk="call_id")
            self._outbox(db, record_id, results.version, "results", body, stamp)
            self._events(db, call_id, events, stamp)
        return record_id

    def queue_request(self, call_id: str, request: RequestInput,
                      events: Sequence[EventInput] = ()) -> str:
        """Queue a cloud widget's request for HQ (record ``<call>:request:<state>[#visit]``,
        version 1: HQ performs each id once). Returns when durable."""
        stamp = self.clock.now()
        record_id = f"{call_id}:request:{request.state}" + (
            f"#{request.visit}" if request.visit > 1 else "")
        body = {"id": record_id, "call": call_id, "state": request.state,
                "widget": request.widget, "request": request.body, "utc": stamp.utc,
                "mono": stamp.mono, "boot": stamp.boot_id, "clock": stamp.quality}
        with self._write() as db:
            self._outbox(db, record_id, 1, "request", body, stamp)
            self._events(db, call_id, [*events, EventInput(
                "request_queued", {"state": request.state, "widget": request.widget})], stamp)
        return record_id

    def add_events(self, call_id: str | None, events: Sequence[EventInput]) -> None:
        if events:
            stamp = self.clock.now()
            with self._write() as db:
                self._events(db, call_id, events, stamp)

    def end_call(self, call_id: str, disposition: str,
                 events: Sequence[EventInput] = ()) -> None:
        """Close the call with its one disposition (a second call is ignored)."""
        if disposition not in DISPOSITIONS:
            raise ValueError(f"unknown disposition {disposition!r}")
        stamp = self.clock.now()
        with self._write() as db:
            current = db.execute(
                "SELECT started_mono, boot_id, disposition, version FROM calls WHERE id = ?",
                [call_id],
            ).fetchone()
            if current is None or current[2] is not None:
                return
            started_mono, boot_id, _, version = current
            duration = round(stamp.mono - started_mono, 3) if boot_id == stamp.boot_id else None
            db.execute(
                "UPDATE calls SET ended_utc = ?, ended_mono = ?, duration_s = ?,"
                " disposition = ?, version = ? WHERE id = ?",
                [stamp.utc, stamp.mono, duration, disposition, version + 1, call_id],
            )
            self._events(db, call_id, [*events, EventInput("ended", {"disposition": disposition})],
                         stamp)
            row = db["calls"].get(call_id)
            self._outbox(db, call_id, version + 1, "call", _call_body(row), stamp)

    def close_interrupted_calls(self) -> int:
        """Calls a crash or power cut left open become ``error`` (never complete)."""
        open_ids = [r[0] for r in self.db.execute(
            "SELECT id FROM calls WHERE disposition IS NULL").fetchall()]
        for call_id in open_ids:
            self.end_call(call_id, "error", [EventInput("interrupted", {"by": "box restart"})])
        return len(open_ids)

    def request_callback(self, call_id: str, number: str) -> str | None:
        """The caller asked to be called back: a job of kind ``requested`` keeps the raw
        number, the one place it is stored, until the callback is done. None when the caller
        already has a call waiting."""
        call = self.reads.call(call_id)
        caller = (call or {}).get("caller") or "p:unknown"
        return self.outbound.enqueue("requested", number, caller, source_call=call_id)

    def record_message(self, sender: str | None, text: str) -> None:
        """An SMS received by a line (``sender`` already pseudonymised)."""
        stamp = self.clock.now()
        with self._write() as db:
            db["messages"].insert({"sender": sender, "text": text, "received_utc": stamp.utc,
                                   "mono": stamp.mono, "boot_id": stamp.boot_id,
                                   "clock_quality": stamp.quality})

    def record_clock_correction(self, correction: ClockCorrection) -> None:
        stamp = self.clock.now()
        body = {
            "boot": correction.boot_id, "mono": correction.mono, "utc": correction.utc,
            "previous_utc": correction.previous_utc, "source": correction.source,
        }
        with self._write() as db:
            row_id = db["clock_corrections"].insert(
                {"boot_id": correction.boot_id, "mono": correction.mono, "utc": correction.utc,
                 "previous_utc": correction.previous_utc, "source": correction.source}
            ).last_pk
            record_id = f"{self.box_id}.{self._epoch}.clock.{row_id}"
            self._outbox(db, record_id, 1, "clock", body, stamp)

    # -- health --------------------------------------------------------------------------
    def probe(self) -> StoreUnavailable | None:
        """Can a write go through now? (An immediate transaction, rolled back.)"""
        with self._lock:
            try:
                self.db.conn.execute("BEGIN IMMEDIATE")
                self.db.conn.execute("UPDATE meta SET value = value WHERE key = 'epoch'")
                self.db.conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                if self.db.conn.in_transaction:
                    self.db.conn.execute("ROLLBACK")
                return _translate(exc) or StoreUnavailable(str(exc))
        return None

    def responsive(self, timeout_s: float = 5.0) -> bool:
        """False when the store's lock cannot be taken in time: a wedged writer."""
        if not self._lock.acquire(timeout=timeout_s):
            return False
        self._lock.release()
        return True

    # -- reading (everything else is in self.reads) ----------------------------------------
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Free SQL, for tests and diagnostics; modules ask ``self.reads`` instead."""
        return self.reads._rows(sql, params)


def _call_body(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "line": row["line"], "caller": row["caller"],
        "withheld": bool(row["withheld"]), "survey": row["survey_id"],
        "survey_version": row["survey_version"], "language": row["language"],
        "started_utc": row["started_utc"], "started_mono": row["started_mono"],
        "ended_utc": row.get("ended_utc"), "ended_mono": row.get("ended_mono"),
        "duration_s": row.get("duration_s"), "disposition": row.get("disposition"),
        "answered": row["answered"], "boot": row["boot_id"], "clock": row["clock_quality"],
    } | ({"attempt": row["attempt"]} if row.get("attempt") else {})


def _answer_body(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "call": row["call_id"], "q": row["question"], "visit": row["visit"],
        "raw": row["raw"], "value": row["value"], "attempts": row["attempts"],
        "invalid": row["invalid"], "timeouts": row["timeouts"],
        "survey_version": row["survey_version"], "language": row["language"],
        "utc": row["utc"], "mono": row["mono"], "boot": row["boot_id"],
        "clock": row["clock_quality"],
    }
