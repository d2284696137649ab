"""Where HQ keeps the state of each request a box queued (``request`` records, sync/PROTOCOL.md)
so that it is performed at most once, whatever the number of performers and crashes.

Its own table, ``request_runs``, beside ``records`` (which stays as the boxes sent it): one
row per request id, created from the stored records by ``take_in`` (a record uploaded again
finds its row there and is not queued again). A performer **claims** one row by an atomic
conditional UPDATE (``state = 'queued'``, committed before any HTTP call; PostgreSQL also
skips rows another performer has locked), then records the outcome under its claim id. The
state rules are in ``sync.hq.perform._rules``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from ._base import Storage, filters

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS request_runs (
    request_id TEXT PRIMARY KEY,
    box TEXT NOT NULL,
    call_id TEXT,
    widget TEXT,
    state TEXT NOT NULL,
    queued_utc TEXT NOT NULL,
    claim_id TEXT,
    claimed_by TEXT,
    claimed_utc TEXT,
    claimed_at DOUBLE PRECISION,
    finished_utc TEXT,
    status_code BIGINT,
    excerpt TEXT,
    error TEXT,
    releases BIGINT NOT NULL DEFAULT 0
)""",
    "CREATE INDEX IF NOT EXISTS request_runs_state ON request_runs (state, queued_utc)",
)
_SCHEMA_LOCK = 0x6564_6772  # advisory lock id (not the main schema's): created once
_COLUMNS = ("request_id", "box", "call_id", "widget", "state", "queued_utc", "claimed_by",
            "claimed_utc", "finished_utc", "status_code", "excerpt", "error", "releases")


@dataclass(frozen=True)
class RequestRow:
    request_id: str
    box: str
    call_id: str | None
    widget: str | None
    state: str
    queued_utc: str
    claimed_by: str | None
    claimed_utc: str | None
    finished_utc: str | None
    status_code: int | None
    excerpt: str | None
    error: str | None
    releases: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Claim:
    request_id: str
    claim_id: str
    box: str
    body: dict[str, Any]
    queued_utc: str = ""


class RequestQueue:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        # PostgreSQL: a row lock taken by another performer's claim is skipped, not waited on.
        self._skip_locked = " FOR UPDATE SKIP LOCKED" if storage.dialect == "postgresql" else ""
        with storage._tx() as tx:
            if storage.dialect == "postgresql":
                tx.execute(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
            for statement in SCHEMA:
                tx.execute(statement)

    def take_in(self, now_utc: str) -> int:
        """Queue every stored request record that has no row yet; returns how many."""
        rows = self.storage._rows(
            "SELECT record_id, box, body FROM records r WHERE kind = 'request' AND version ="
            " (SELECT min(version) FROM records x WHERE x.record_id = r.record_id)"
            " AND NOT EXISTS (SELECT 1 FROM request_runs q WHERE q.request_id = r.record_id)"
            " ORDER BY box, seq")
        new = 0
        with self.storage._tx() as tx:
            for record_id, box, text in rows:
                body = _json(text)
                call = body.get("call") if isinstance(body.get("call"), str) else None
                widget = body.get("widget") if isinstance(body.get("widget"), str) else None
                new += tx.execute(
                    "INSERT INTO request_runs (request_id, box, call_id, widget, state,"
                    " queued_utc) VALUES (?, ?, ?, ?, 'queued', ?)"
                    " ON CONFLICT (request_id) DO NOTHING",
                    [record_id, box, call, widget, now_utc]).rowcount
        return new

    def claim(self, claim_id: str, owner: str, now: float, now_utc: str) -> Claim | None:
        """Claim the oldest queued request (committed when this returns), or None."""
        with self.storage._tx() as tx:
            rows = tx.execute(
                "UPDATE request_runs SET state = 'claimed', claim_id = ?, claimed_by = ?,"
                " claimed_at = ?, claimed_utc = ? WHERE request_id = (SELECT request_id FROM"
                " request_runs WHERE state = 'queued' ORDER BY queued_utc, request_id LIMIT 1"
                f"{self._skip_locked}) AND state = 'queued'"
                " RETURNING request_id, box, queued_utc",
                [claim_id, owner, now, now_utc]).fetchall()
        if not rows:
            return None
        request_id, box, queued_utc = rows[0]
        text = self.storage._rows(
            "SELECT body FROM records WHERE record_id = ? ORDER BY version LIMIT 1",
            [request_id])
        return Claim(request_id, claim_id, box, _json(text[0][0]) if text else {},
                     queued_utc)

    def wait(self, claim: Claim, reason: str) -> bool:
        """A claimed request lacks what may still come (an SMS's caller number): it waits,
        unclaimed, nothing performed."""
        with self.storage._tx() as tx:
            return tx.execute(
                "UPDATE request_runs SET state = 'waiting', error = ?, claim_id = NULL,"
                " claimed_by = NULL, claimed_utc = NULL, claimed_at = NULL"
                " WHERE request_id = ? AND claim_id = ? AND state = 'claimed'",
                [reason, claim.request_id, claim.claim_id]).rowcount == 1

    def wake(self, cutoff_utc: str) -> list[str]:
        """Waiting requests go back to the queue once their call's callback number is at
        HQ, or once they were queued before ``cutoff_utc`` (then refused when performed)."""
        with self.storage._tx() as tx:
            rows = tx.execute(
                "UPDATE request_runs SET state = 'queued', error = NULL WHERE state ="
                " 'waiting' AND (queued_utc < ? OR EXISTS (SELECT 1 FROM callbacks c"
                " WHERE c.box = request_runs.box AND c.call_id = request_runs.call_id))"
                " RETURNING request_id", [cutoff_utc]).fetchall()
        return sorted(r[0] for r in rows)

    def finish(self, claim: Claim, state: str, status_code: int | None, excerpt: str | None,
               error: str | None, now_utc: str) -> bool:
        """Record a claim's outcome. Also after its lease passed (the outcome is then known
        after all); never once an operator released it (it may be claimed anew)."""
        with self.storage._tx() as tx:
            return tx.execute(
                "UPDATE request_runs SET state = ?, status_code = ?, excerpt = ?, error = ?,"
                " finished_utc = ? WHERE request_id = ? AND claim_id = ?"
                " AND state IN ('claimed', 'uncertain')",
                [state, status_code, excerpt, error, now_utc, claim.request_id,
                 claim.claim_id]).rowcount == 1

    def abandon_expired(self, before: float, reason: str, now_utc: str) -> list[str]:
        """Claims made before ``before`` with no outcome become ``uncertain``."""
        with self.storage._tx() as tx:
            rows = tx.execute(
                "UPDATE request_runs SET state = 'uncertain', error = ?, finished_utc = ?"
                " WHERE state = 'claimed' AND claimed_at < ? RETURNING request_id",
                [reason, now_utc, before]).fetchall()
        return sorted(r[0] for r in rows)

    def release(self, request_id: str, releasable: frozenset[str], now_utc: str) -> bool:
        """An operator puts a request back in the queue (it will be performed again)."""
        states = sorted(releasable)
        with self.storage._tx() as tx:
            return tx.execute(
                "UPDATE request_runs SET state = 'queued', queued_utc = ?, claim_id = NULL,"
                " claimed_by = NULL, claimed_utc = NULL, claimed_at = NULL,"
                " finished_utc = NULL, status_code = NULL, excerpt = NULL, error = NULL,"
                " releases = releases + 1 WHERE request_id = ? AND state IN ("
                + ", ".join("?" for _ in states) + ")",
                [now_utc, request_id, *states]).rowcount == 1

    def rows(self, state: str | None = None, box: str | None = None,
             since_utc: str | None = None, request_id: str | None = None
             ) -> list[RequestRow]:
        where, params = filters((("state", state), ("box", box), ("request_id", request_id)),
                                ("queued_utc", since_utc))
        sql = f"SELECT {', '.join(_COLUMNS)} FROM request_runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        found = self.storage._rows(sql + " ORDER BY queued_utc, request_id", params)
        return [RequestRow(*r[:-1], int(r[-1])) for r in found]

    def row(self, request_id: str) -> RequestRow | None:
        found = self.rows(request_id=request_id)
        return found[0] if found else None

    def counts(self) -> dict[str, int]:
        return {r[0]: int(r[1]) for r in self.storage._rows(
            "SELECT state, count(*) FROM request_runs GROUP BY state")}

    def caller(self, box: str, call_id: str) -> tuple[str | None, str | None]:
        """(the call record's caller pseudonym, the newest callback number the box sent for
        that call) — what a send-message to the caller needs."""
        calls = self.storage._rows(
            "SELECT body FROM records WHERE record_id = ? AND box = ? AND kind = 'call'"
            " ORDER BY version DESC LIMIT 1", [call_id, box])
        pseudonym = _json(calls[0][0]).get("caller") if calls else None
        numbers = self.storage._rows(
            "SELECT number FROM callbacks WHERE box = ? AND call_id = ?"
            " ORDER BY requested_utc DESC LIMIT 1", [box, call_id])
        return (pseudonym if isinstance(pseudonym, str) else None,
                numbers[0][0] if numbers else None)


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
