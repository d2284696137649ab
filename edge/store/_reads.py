"""Every read of the store's tables that other modules need, in one place.

The store owns its tables: status, export, the status page, doctor, the demo and sync ask here
rather than writing SQL against them. A :class:`StoreReads` works on any connection to the
file: the store's own (``Store.reads``, under its lock), the sync ledger's, or doctor's
read-only one.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from edge.records import OutboxRow


class StoreReads:
    def __init__(self, conn: sqlite3.Connection,
                 lock: threading.RLock | threading.Lock | None = None) -> None:
        self._conn = conn
        self._lock = lock

    @contextlib.contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        if self._lock is None:
            yield self._conn
            return
        with self._lock:
            yield self._conn

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._locked() as conn:
            cursor = conn.execute(sql, list(params))
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._locked() as conn:
            row = conn.execute(sql, list(params)).fetchone()
        return row[0] if row else None

    # -- the outbox and its acknowledgements ----------------------------------------------
    def outbox_after(self, seq: int, limit: int = 1000) -> list[OutboxRow]:
        with self._locked() as conn:
            rows = conn.execute(
                "SELECT seq, record_id, version, kind, body, created_utc FROM outbox"
                " WHERE seq > ? ORDER BY seq LIMIT ?", [seq, limit]).fetchall()
        return [OutboxRow(*r) for r in rows]

    def acked_seq(self, sink: str | None = None) -> int:
        """How far ``sink`` has acknowledged the outbox; None: the slowest sink (0 with none)."""
        if sink is None:
            return self._value("SELECT min(acked_seq) FROM outbox_acks") or 0
        return self._value("SELECT acked_seq FROM outbox_acks WHERE sink = ?", [sink]) or 0

    def backlog(self, sink: str | None = None) -> int:
        """Outbox records not yet acknowledged by ``sink`` (None: by the slowest sink; all of
        them while no sink has acknowledged anything)."""
        return self._value("SELECT count(*) FROM outbox WHERE seq > ?", [self.acked_seq(sink)])

    def acking_sinks(self) -> list[str]:
        return [r["sink"] for r in self._rows("SELECT sink FROM outbox_acks ORDER BY sink")]

    def pending_callbacks(self) -> list[dict[str, str]]:
        """Callbacks still to be made, oldest first, with the raw number (the one place it
        lives): ``{"call", "number", "requested_utc"}``."""
        return [{"call": r["source_call"], "number": r["number"],
                 "requested_utc": r["created_utc"]}
                for r in self._rows(
                    "SELECT source_call, number, created_utc FROM outbound"
                    " WHERE kind != 'campaign' AND status IN ('pending', 'dialling')"
                    " AND number IS NOT NULL AND source_call IS NOT NULL"
                    " ORDER BY created_utc, id")]

    # -- calling out -----------------------------------------------------------------------
    def placed_call_seconds_since(self, since_utc: str) -> float:
        """Airtime of calls the box placed that started at or after ``since_utc``: what the
        daily cap counts (answered time; ringing is not billed)."""
        return self._value(
            "SELECT coalesce(sum(coalesce(duration_s, 0)), 0) FROM calls"
            " WHERE attempt IS NOT NULL AND started_utc >= ?", [since_utc])

    def outbound_summary(self, since_utc: str) -> dict[str, Any]:
        """For status, the status page and doctor: callbacks waiting and the oldest's age
        (its created stamp), attempts and placed-call minutes since ``since_utc``."""
        waiting = self._rows(
            "SELECT count(*) AS n, min(created_utc) AS oldest FROM outbound"
            " WHERE kind != 'campaign' AND status IN ('pending', 'dialling')")[0]
        attempts = self._value(
            "SELECT count(*) FROM outbound_attempts WHERE started_utc >= ?", [since_utc])
        return {"callbacks_waiting": waiting["n"], "oldest_waiting_utc": waiting["oldest"],
                "attempts": attempts,
                "minutes": round(self.placed_call_seconds_since(since_utc) / 60, 1)}

    def callback_counts(self) -> dict[str, int]:
        """Callbacks (every outbound job but campaign numbers) by status."""
        return {r["status"]: r["n"] for r in self._rows(
            "SELECT status, count(*) AS n FROM outbound WHERE kind != 'campaign'"
            " GROUP BY status")}

    def campaigns(self) -> list[dict[str, Any]]:
        """Every campaign with its jobs counted by status."""
        rows = self._rows("SELECT * FROM campaigns ORDER BY created_utc")
        for row in rows:
            row["jobs"] = {r["status"]: r["n"] for r in self._rows(
                "SELECT status, count(*) AS n FROM outbound WHERE campaign = ?"
                " GROUP BY status", [row["id"]])}
        return rows

    def attempt_timeline(self) -> list[dict[str, Any]]:
        """Every dial in the order placed, with its job: ``{"job", "kind", "caller",
        "created_utc", "status", "attempts", "n", "started_utc", "ended_utc", "outcome"}``
        (the surge benchmark's callback waits and line occupancy). Pseudonyms only."""
        return self._rows(
            "SELECT a.job, o.kind, o.caller, o.created_utc, o.status, o.attempts, a.n,"
            " a.started_utc, a.ended_utc, a.outcome FROM outbound_attempts a"
            " JOIN outbound o ON o.id = a.job ORDER BY a.started_utc, a.id")

    def jobs(self) -> list[dict[str, Any]]:
        """Every outbound job: ``{"id", "kind", "caller", "created_utc", "status",
        "attempts", "outcome"}``. Pseudonyms only."""
        return self._rows(
            "SELECT id, kind, caller, created_utc, status, attempts, last_outcome AS outcome"
            " FROM outbound ORDER BY created_utc, id")

    # -- figures ---------------------------------------------------------------------------
    def dispositions_since(self, since_utc: str) -> list[dict[str, Any]]:
        """``{"survey", "disposition", "n"}`` for calls started at or after ``since_utc``
        (disposition None: still in progress; survey "none": calls without one)."""
        return self._rows(
            "SELECT coalesce(survey_id, 'none') AS survey, disposition, count(*) AS n"
            " FROM calls WHERE started_utc >= ? GROUP BY survey, disposition", [since_utc])

    def last_call_utc(self) -> str | None:
        """When the newest call started (the box's heartbeat to HQ reports it)."""
        return self._value("SELECT max(started_utc) FROM calls")

    def last_call_clock_quality(self) -> str | None:
        return self._value(
            "SELECT clock_quality FROM calls ORDER BY started_utc DESC, no DESC LIMIT 1")

    def error_calls(self, limit: int) -> list[dict[str, Any]]:
        """Newest first: ``{"id", "utc", "line"}`` of calls that ended in ``error``."""
        return self._rows(
            "SELECT id, coalesce(ended_utc, started_utc) AS utc, line FROM calls"
            " WHERE disposition = 'error' ORDER BY utc DESC LIMIT ?", [limit])

    def events_of(self, kinds: Sequence[str], limit: int) -> list[dict[str, Any]]:
        """Newest first: ``{"utc", "kind", "call_id", "detail"}`` of events of these kinds."""
        marks = ",".join("?" * len(kinds))
        return self._rows(
            f"SELECT utc, kind, call_id, detail FROM events WHERE kind IN ({marks})"
            " ORDER BY utc DESC, id DESC LIMIT ?", [*kinds, limit])

    # -- calls and answers -----------------------------------------------------------------
    def last_call_no(self) -> int:
        return self._value("SELECT coalesce(max(no), 0) FROM calls")

    def call_timeline(self) -> list[dict[str, Any]]:
        """Every call in order: ``{"caller", "started_utc", "ended_utc", "disposition",
        "attempt"}`` (``attempt`` names the dial of a call the box placed). Pseudonyms only."""
        return self._rows(
            "SELECT caller, started_utc, ended_utc, disposition, attempt FROM calls ORDER BY no")

    def call(self, call_id: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM calls WHERE id = ?", [call_id])
        return rows[0] if rows else None

    def calls_for_export(self) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT id AS call_id, line, caller, withheld, survey_id, survey_version, language,"
            " started_utc, ended_utc, duration_s, disposition, answered, clock_quality, boot_id"
            " FROM calls ORDER BY no")

    def answers(self, call_id: str | None = None) -> list[dict[str, Any]]:
        """Answers in the order they were stored (of one call, or all)."""
        where, params = ("WHERE call_id = ?", [call_id]) if call_id is not None else ("", [])
        return self._rows(
            "SELECT call_id, question, visit, raw, value, attempts, invalid, timeouts, utc,"
            f" clock_quality FROM answers {where} ORDER BY rowid", params)

    def audio(self, call_id: str | None = None) -> list[dict[str, Any]]:
        """Recorded answers' files (of one call, or all), in the order they were stored:
        ``{"reference", "call_id", "answer_id", "bytes", "sha256", "seconds", "format",
        "utc"}``."""
        where, params = ("WHERE call_id = ?", [call_id]) if call_id is not None else ("", [])
        return self._rows(
            "SELECT reference, call_id, answer_id, bytes, sha256, seconds, format, utc"
            f" FROM audio {where} ORDER BY rowid", params)

    def audio_acknowledged(self, acked_seq: int) -> list[dict[str, Any]]:
        """Recordings whose ``audio`` record a sink has acknowledged (its outbox seq at or
        below ``acked_seq``, or purged by the retention, which only purges what every sink
        acknowledged), in the order they were stored: what sync may upload to that sink."""
        return self._rows(
            "SELECT a.reference, a.call_id, a.bytes, a.sha256, a.seconds, a.format"
            " FROM audio a LEFT JOIN outbox o ON o.record_id = a.reference AND o.kind = 'audio'"
            " WHERE o.seq IS NULL OR o.seq <= ? ORDER BY a.rowid", [acked_seq])

    def has_outbox_after(self, seq: int) -> bool:
        """Whether any outbox record follows ``seq`` (cheaper than a backlog count)."""
        return self._value("SELECT 1 FROM outbox WHERE seq > ? LIMIT 1", [seq]) is not None

    def audio_references(self) -> list[str]:
        return [r["reference"] for r in self._rows("SELECT reference FROM audio")]

    def audio_room(self) -> list[dict[str, Any]]:
        """Every recording, oldest first: ``{"reference", "held_utc", "removed_utc"}`` (HQ
        holds it; the box removed its WAV to make room)."""
        return self._rows("SELECT reference, held_utc, removed_utc FROM audio ORDER BY rowid")

    def audio_bytes_kept(self) -> int:
        """Bytes of the WAVs the box still keeps (their link copies not counted)."""
        return int(self._value("SELECT coalesce(sum(bytes), 0) FROM audio"
                               " WHERE removed_utc IS NULL") or 0)

    def audio_summary(self) -> dict[str, int]:
        """Recordings on the box, for doctor: ``{"count", "kept_bytes" (WAVs still here),
        "waiting_bytes" (of those, HQ does not hold yet), "held", "removed"}``."""
        (row,) = self._rows(
            "SELECT count(*) AS count,"
            " coalesce(sum(CASE WHEN removed_utc IS NULL THEN bytes END), 0) AS kept_bytes,"
            " coalesce(sum(CASE WHEN held_utc IS NULL THEN bytes END), 0) AS waiting_bytes,"
            " count(held_utc) AS held, count(removed_utc) AS removed FROM audio")
        return {k: int(v) for k, v in row.items()}

    def audio_removed(self) -> list[str]:
        """Recordings whose WAV the box removed to make room (HQ holds them)."""
        return [r["reference"] for r in self._rows(
            "SELECT reference FROM audio WHERE removed_utc IS NOT NULL")]

    def call_results(self) -> dict[str, dict[str, Any]]:
        """call id -> the newest version of its Studio-shaped results (widgets, flow)."""
        return {r["call_id"]: json.loads(r["body"])
                for r in self._rows("SELECT call_id, body FROM call_results")}

    def answer_count(self, after_call_no: int = 0) -> int:
        """Answers of calls numbered after ``after_call_no``."""
        return self._value(
            "SELECT count(*) FROM answers a JOIN calls c ON c.id = a.call_id WHERE c.no > ?",
            [after_call_no])

    def questions(self) -> list[str]:
        """Every question answered so far, in order of first answer."""
        return [r["question"] for r in self._rows(
            "SELECT question FROM answers GROUP BY question ORDER BY min(rowid)")]

    # -- health ----------------------------------------------------------------------------
    def quick_check(self) -> str:
        """SQLite's own consistency check: "ok" or what is wrong."""
        return self._value("PRAGMA quick_check")
