"""The store's side of calling out: the queue of jobs (callbacks and campaign numbers), one row
per attempt committed before the dial, campaigns and opt-outs.

Raw numbers live only in ``outbound.number`` and only while the job may still dial: a job that
ends (answered, out of attempts, expired, cancelled) has its number erased in the same
transaction. Everything that leaves the box is pseudonymised: the job and attempt records in
the outbox carry the caller's pseudonym.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from edge.clock import Stamp, format_utc

from ._core import StoreCore

if TYPE_CHECKING:
    from sqlite_utils import Database


ACTIVE = ("pending", "dialling", "paused")
FINAL = ("done", "failed", "expired", "cancelled")
CALLBACK_KINDS = ("cut", "missed", "busy", "requested")
_KIND_ORDER = "CASE kind WHEN 'cut' THEN 0 WHEN 'missed' THEN 1 WHEN 'busy' THEN 2 " \
              "WHEN 'requested' THEN 3 ELSE 4 END"


@dataclass(frozen=True, slots=True)
class Attempt:
    id: str
    job: str
    n: int
    number: str
    kind: str
    survey: str | None
    caller: str


class OutboundStore:
    """``store.outbound``: every write of the outbound tables, each one transaction."""

    def __init__(self, store: StoreCore) -> None:
        self._store = store

    # -- queueing ------------------------------------------------------------------------
    def enqueue(self, kind: str, number: str, caller: str, *, source_call: str | None = None,
                campaign: str | None = None, survey: str | None = None,
                due_utc: str | None = None, dedup_window_s: float = 0.0) -> str | None:
        """Queue a call to ``number`` (E.164; ``caller`` its pseudonym). Returns the job id,
        or None when the number already has a job waiting, was called back successfully within
        ``dedup_window_s``, or (campaigns) opted out."""
        store = self._store
        stamp = store.clock.now()
        with store._write() as db:
            return self._enqueue(db, stamp, kind, number, caller, source_call=source_call,
                                 campaign=campaign, survey=survey, due_utc=due_utc,
                                 dedup_window_s=dedup_window_s)

    def _enqueue(self, db: Database, stamp: Stamp, kind: str, number: str, caller: str, *,
                 source_call: str | None, campaign: str | None, survey: str | None,
                 due_utc: str | None, dedup_window_s: float) -> str | None:
        if self._duplicate(db, caller, kind, stamp, dedup_window_s):
            return None
        job_id = self._next_id(db)
        row = {"id": job_id, "kind": kind, "number": number, "caller": caller,
               "source_call": source_call, "campaign": campaign, "survey": survey,
               "created_utc": stamp.utc, "due_utc": due_utc or stamp.utc, "attempts": 0,
               "status": "pending", "last_outcome": None, "done_utc": None, "version": 1}
        db["outbound"].insert(row)
        self._store._outbox(db, job_id, 1, "job", _job_body(row), stamp)
        return job_id

    def _duplicate(self, db: Database, caller: str, kind: str, stamp: Stamp,
                   window_s: float) -> bool:
        waiting = db.execute(
            "SELECT 1 FROM outbound WHERE caller = ? AND status IN ('pending', 'dialling',"
            " 'paused') LIMIT 1", [caller]).fetchone()
        if waiting:
            return True
        if kind == "campaign" and db.execute(
                "SELECT 1 FROM opt_outs WHERE caller = ?", [caller]).fetchone():
            return True
        if window_s > 0:
            since = _shift(stamp.utc, -window_s)
            recent = db.execute(
                "SELECT 1 FROM outbound WHERE caller = ? AND status = 'done'"
                " AND done_utc >= ? LIMIT 1", [caller, since]).fetchone()
            if recent:
                return True
        return False

    def _next_id(self, db: Database) -> str:
        no = int(db.execute("SELECT value FROM meta WHERE key = 'next_job_no'").fetchone()[0])
        db.execute("UPDATE meta SET value = ? WHERE key = 'next_job_no'", [str(no + 1)])
        store = self._store
        return f"{store.box_id}.{store._epoch}.j{no}"

    # -- dialling ------------------------------------------------------------------------
    def waiting(self, now_utc: str, limit: int = 200) -> list[dict[str, Any]]:
        """Pending jobs due by ``now_utc`` in dial order, then the next one due later (so the
        dispatcher knows when to look again)."""
        store = self._store
        due = store.query(
            "SELECT id, kind, created_utc, due_utc, attempts FROM outbound"
            f" WHERE status = 'pending' AND due_utc <= ? ORDER BY {_KIND_ORDER}, created_utc"
            " LIMIT ?", [now_utc, limit])
        later = store.query(
            "SELECT id, kind, created_utc, due_utc, attempts FROM outbound"
            " WHERE status = 'pending' AND due_utc > ? ORDER BY due_utc LIMIT 1", [now_utc])
        return due + later

    def begin_attempt(self, job_id: str, line: str) -> Attempt | None:
        """Commit the attempt row (and the job's ``dialling`` state) before the dial. None when
        the job is no longer pending (cancelled, taken by another dispatcher)."""
        store = self._store
        stamp = store.clock.now()
        with store._write() as db:
            row = db.execute(
                "SELECT attempts, number, kind, survey, caller FROM outbound"
                " WHERE id = ? AND status = 'pending' AND number IS NOT NULL",
                [job_id]).fetchone()
            if row is None:
                return None
            attempts, number, kind, survey, caller = row
            n = attempts + 1
            attempt_id = f"{job_id}#{n}"
            db.execute("UPDATE outbound SET status = 'dialling', attempts = ? WHERE id = ?",
                       [n, job_id])
            db["outbound_attempts"].insert({
                "id": attempt_id, "job": job_id, "n": n, "line": line, "started_utc": stamp.utc,
                "started_mono": stamp.mono, "boot_id": stamp.boot_id,
                "clock_quality": stamp.quality})
        return Attempt(attempt_id, job_id, n, number, kind, survey, caller)

    def finish_attempt(self, attempt_id: str, outcome: str, *, call_id: str | None = None,
                       retry_utc: str | None = None) -> None:
        """Record the attempt's outcome; the job is done (answered), waits for ``retry_utc``,
        or has failed for good (``retry_utc`` None)."""
        store = self._store
        stamp = store.clock.now()
        with store._write() as db:
            attempt = db.execute(
                "SELECT job, started_mono, boot_id, outcome FROM outbound_attempts"
                " WHERE id = ?", [attempt_id]).fetchone()
            if attempt is None or attempt[3] is not None:
                return
            job_id, started_mono, boot_id, _ = attempt
            seconds = round(stamp.mono - started_mono, 3) if boot_id == stamp.boot_id else None
            db.execute("UPDATE outbound_attempts SET outcome = ?, ended_utc = ?, seconds = ?,"
                       " call_id = ? WHERE id = ?",
                       [outcome, stamp.utc, seconds, call_id, attempt_id])
            full = db["outbound_attempts"].get(attempt_id)
            caller = db.execute("SELECT caller FROM outbound WHERE id = ?",
                                [job_id]).fetchone()[0]
            store._outbox(db, attempt_id, 1, "attempt", _attempt_body(full, caller), stamp)
            status = "done" if outcome == "answered" else (
                "pending" if retry_utc is not None else "failed")
            self._set_status(db, job_id, status, stamp, outcome=outcome, due_utc=retry_utc)

    def recover_interrupted(self, retry_utc: Callable[[int], str | None]) -> int:
        """Attempts a kill -9 or power cut left without an outcome: recorded ``failed``
        (never dialled again under the same attempt); each job waits for ``retry_utc(n)``."""
        rows = self._store.query(
            "SELECT a.id, a.n FROM outbound_attempts a WHERE a.outcome IS NULL")
        for row in rows:
            self.finish_attempt(row["id"], "failed", retry_utc=retry_utc(row["n"]))
        return len(rows)

    def expire(self, job_ids: Iterable[str]) -> None:
        store = self._store
        stamp = store.clock.now()
        with store._write() as db:
            for job_id in job_ids:
                self._set_status(db, job_id, "expired", stamp, only_from=("pending",))

    # -- campaigns and opt-outs ----------------------------------------------------------
    def add_campaign(self, campaign_id: str, name: str, survey: str | None,
                     numbers: Sequence[tuple[str, str]], invalid: int,
                     dedup_window_s: float = 0.0) -> dict[str, int]:
        """Create a campaign and queue its numbers (E.164, pseudonym) in one transaction (one
        fsync, however long the list); returns counts."""
        store = self._store
        stamp = store.clock.now()
        queued = duplicates = opted_out = 0
        with store._write() as db:
            db["campaigns"].insert({"id": campaign_id, "name": name, "survey": survey,
                                    "status": "active", "created_utc": stamp.utc,
                                    "numbers": 0, "invalid": invalid, "duplicates": 0,
                                    "opted_out": 0})
            for number, caller in numbers:
                if db.execute("SELECT 1 FROM opt_outs WHERE caller = ?", [caller]).fetchone():
                    opted_out += 1
                elif self._enqueue(db, stamp, "campaign", number, caller, source_call=None,
                                   campaign=campaign_id, survey=survey, due_utc=None,
                                   dedup_window_s=dedup_window_s):
                    queued += 1
                else:
                    duplicates += 1
            db["campaigns"].update(campaign_id, {"numbers": queued, "duplicates": duplicates,
                                                 "opted_out": opted_out})
        return {"queued": queued, "invalid": invalid, "duplicates": duplicates,
                "opted_out": opted_out}

    def set_campaign_status(self, campaign_id: str, status: str) -> int:
        """``paused``/``active``/``cancelled``; returns how many jobs changed."""
        store = self._store
        stamp = store.clock.now()
        moves = {"paused": ("pending", "paused"), "active": ("paused", "pending"),
                 "cancelled": (None, "cancelled")}
        if status not in moves:
            raise ValueError(f"unknown campaign status {status!r}")
        source, target = moves[status]
        with store._write() as db:
            db["campaigns"].update(campaign_id, {"status": status})
            ids = [r[0] for r in db.execute(
                "SELECT id FROM outbound WHERE campaign = ? AND status IN "
                + ("('pending', 'paused')" if source is None else f"('{source}')"),
                [campaign_id]).fetchall()]
            for job_id in ids:
                if target == "cancelled":
                    self._set_status(db, job_id, "cancelled", stamp)
                else:
                    db.execute("UPDATE outbound SET status = ? WHERE id = ?", [target, job_id])
        return len(ids)

    def opt_out(self, caller: str, call_id: str | None) -> None:
        """The caller pressed the opt-out key: no campaign calls them again, and their waiting
        campaign calls are cancelled."""
        store = self._store
        stamp = store.clock.now()
        with store._write() as db:
            db["opt_outs"].upsert({"caller": caller, "utc": stamp.utc, "call_id": call_id},
                                  pk="caller")
            for (job_id,) in db.execute(
                    "SELECT id FROM outbound WHERE caller = ? AND kind = 'campaign' AND status"
                    " IN ('pending', 'paused')", [caller]).fetchall():
                self._set_status(db, job_id, "cancelled", stamp)

    def purge(self, before_utc: str) -> int:
        """Delete ended jobs (and their attempts) that ended before ``before_utc`` and whose
        records every sink has acknowledged; nothing a sink still needs is touched. Their raw
        numbers were erased when they ended; this keeps the tables small."""
        store = self._store
        acked = store.reads.acked_seq()
        with store._write(frees=True) as db:
            ids = [r[0] for r in db.execute(
                "SELECT o.id FROM outbound o WHERE o.status IN ('done', 'failed', 'expired',"
                " 'cancelled') AND o.done_utc < ? AND NOT EXISTS (SELECT 1 FROM outbox x"
                " WHERE (x.record_id = o.id OR x.record_id LIKE o.id || '#%') AND x.seq > ?)",
                [before_utc, acked]).fetchall()]
            for job_id in ids:
                db.execute("DELETE FROM outbound_attempts WHERE job = ?", [job_id])
                db.execute("DELETE FROM outbound WHERE id = ?", [job_id])
        return len(ids)

    # -- shared ----------------------------------------------------------------------------
    def _set_status(self, db: Database, job_id: str, status: str, stamp: Stamp, *,
                    outcome: str | None = None, due_utc: str | None = None,
                    only_from: Sequence[str] | None = None) -> None:
        row = db.execute("SELECT status, version FROM outbound WHERE id = ?",
                         [job_id]).fetchone()
        if row is None or (only_from is not None and row[0] not in only_from):
            return
        final = status in FINAL
        updates: dict[str, Any] = {"status": status}
        if outcome is not None:
            updates["last_outcome"] = outcome
        if due_utc is not None:
            updates["due_utc"] = due_utc
        if final:
            # The raw number is not needed once the job can no longer dial.
            updates.update(number=None, done_utc=stamp.utc, version=row[1] + 1)
        db["outbound"].update(job_id, updates)
        if final:
            self._store._outbox(db, job_id, row[1] + 1, "job",
                                _job_body(db["outbound"].get(job_id)), stamp)


def _shift(utc: str, seconds: float) -> str:
    moment = datetime.fromisoformat(utc.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return format_utc(moment.timestamp())


def _job_body(row: dict[str, Any]) -> dict[str, Any]:
    """A job as HQ receives it: the caller's pseudonym, never the number."""
    return {"id": row["id"], "kind": row["kind"], "caller": row["caller"],
            "call": row["source_call"], "campaign": row["campaign"], "survey": row["survey"],
            "created_utc": row["created_utc"], "status": row["status"],
            "attempts": row["attempts"], "outcome": row["last_outcome"],
            "done_utc": row["done_utc"]}


def _attempt_body(row: dict[str, Any], caller: str) -> dict[str, Any]:
    return {"id": row["id"], "job": row["job"], "n": row["n"], "caller": caller,
            "line": row["line"], "started_utc": row["started_utc"],
            "started_mono": row["started_mono"], "boot": row["boot_id"],
            "clock": row["clock_quality"], "outcome": row["outcome"],
            "ended_utc": row["ended_utc"], "seconds": row["seconds"], "call": row["call_id"]}
