"""Retention of the outbox: rows every sink has acknowledged are not needed by sync any more
(the calls, answers and events tables keep what happened); kept a while for inspection, then
deleted so that a box that syncs keeps a bounded database.

A row goes only when its ``seq`` is at or below every sink's acknowledgement cursor
(``outbox_acks``; sync registers each configured sink there, at 0, before its first batch, so
a sink that never acknowledged anything keeps everything) and it is older than the retention
age. Cursors never move back and ``seq`` is never reused (AUTOINCREMENT), so a sink's reads
after its cursor are untouched. With no sink registered nothing is deleted."""

from __future__ import annotations

from ._core import StoreCore

CHUNK = 2000  # rows per transaction: a large purge never grows the WAL much at once


def purge_outbox(store: StoreCore, before_utc: str) -> int:
    """Delete outbox rows every sink has acknowledged that were created before
    ``before_utc``; returns how many."""
    acked = store.reads.acked_seq()  # the slowest sink's cursor; 0 without any sink
    purged = 0
    while True:
        with store._write(frees=True) as db:
            count = db.execute(
                "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE seq <= ?"
                " AND created_utc < ? ORDER BY seq LIMIT ?)",
                [acked, before_utc, CHUNK]).rowcount
        purged += count
        if count < CHUNK:
            return purged
