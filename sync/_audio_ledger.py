"""What the box remembers of its recording uploads, per sink, in the sync tables of the
store's file (the ledger's connection and lock; tables of migration m003): each recording's
link copy as first made, whether HQ confirmed it, and the bytes spent per UTC day."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from edge.store import mark_audio_held

from ._audio_codec import LinkCopy
from ._ledger import Ledger

SENDING, DONE, PARKED = "sending", "done", "parked"


@dataclass(frozen=True, slots=True)
class Known:
    size: int
    sha256: str
    format: str
    state: str
    attempts: int


class AudioLedger:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.sink = ledger.sink

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with self.ledger._lock:
            return self.ledger.conn.execute(sql, params).fetchall()

    def to_send(self) -> list[dict[str, Any]]:
        """Recordings whose record this sink has acknowledged and that it has neither
        confirmed nor parked, oldest first (the store's ``audio`` rows)."""
        finished = {r[0] for r in self._rows(
            "SELECT reference FROM sync_audio WHERE sink = ? AND state != ?",
            [self.sink, SENDING])}
        return [a for a in self.ledger.store.audio_acknowledged(self.ledger.acked_seq())
                if a["reference"] not in finished]

    def known(self, reference: str) -> Known | None:
        rows = self._rows("SELECT size, sha256, format, state, attempts FROM sync_audio"
                          " WHERE sink = ? AND reference = ?", [self.sink, reference])
        return Known(*rows[0]) if rows else None

    def remember(self, reference: str, copy: LinkCopy) -> None:
        """The link copy about to be sent for the first time: from now on only these bytes
        go under this reference."""
        with self.ledger._tx() as conn:
            conn.execute("INSERT OR IGNORE INTO sync_audio (sink, reference, size, sha256,"
                         " format) VALUES (?, ?, ?, ?, ?)",
                         [self.sink, reference, copy.size, copy.sha256, copy.format])

    def attempt(self, reference: str) -> None:
        with self.ledger._tx() as conn:
            conn.execute("UPDATE sync_audio SET attempts = attempts + 1 WHERE sink = ? AND"
                         " reference = ?", [self.sink, reference])

    def confirmed(self, reference: str) -> None:
        """HQ holds the recording whole: done for this sink, and (same transaction) held for
        the store, whose WAV may now go when room is short (edge.store._recording_room)."""
        with self.ledger._tx() as conn:
            self._finish_in(conn, reference, DONE, None)
            mark_audio_held(conn, reference, self.ledger._now())

    def park(self, reference: str, reason: str) -> None:
        self._finish(reference, PARKED, reason[:500])

    def _finish(self, reference: str, state: str, reason: str | None) -> None:
        with self.ledger._tx() as conn:
            self._finish_in(conn, reference, state, reason)

    def _finish_in(self, conn: sqlite3.Connection, reference: str, state: str,
                   reason: str | None) -> None:
        conn.execute("UPDATE sync_audio SET state = ?, reason = ?, done_utc = ?"
                     " WHERE sink = ? AND reference = ?",
                     [state, reason, self.ledger._now(), self.sink, reference])

    def unpark(self) -> int:
        with self.ledger._tx() as conn:
            return conn.execute("UPDATE sync_audio SET state = ?, reason = NULL, done_utc ="
                                " NULL WHERE sink = ? AND state = ?",
                                [SENDING, self.sink, PARKED]).rowcount

    def spent(self, day: str) -> int:
        rows = self._rows("SELECT bytes FROM sync_audio_days WHERE sink = ? AND day = ?",
                          [self.sink, day])
        return int(rows[0][0]) if rows else 0

    def spend(self, day: str, request_bytes: int) -> None:
        with self.ledger._tx() as conn:
            conn.execute("INSERT INTO sync_audio_days (sink, day, bytes) VALUES (?, ?, ?)"
                         " ON CONFLICT (sink, day) DO UPDATE SET bytes = bytes + excluded.bytes",
                         [self.sink, day, request_bytes])
            # A year of days is plenty for status; older ones are of no use.
            conn.execute("DELETE FROM sync_audio_days WHERE sink = ? AND day < date(?, "
                         "'-366 days')", [self.sink, day])

    def counts(self) -> dict[str, int]:
        """Recordings by state for this sink (status)."""
        return {r[0]: int(r[1]) for r in self._rows(
            "SELECT state, count(*) FROM sync_audio WHERE sink = ? GROUP BY state",
            [self.sink])}
