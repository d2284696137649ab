"""The writes sync makes to the store's tables: registering a sink and moving its
acknowledgement cursor.

It runs on the caller's connection, inside the caller's transaction, so that a sink's batch
state and its cursor move together (see sync's ledger)."""

from __future__ import annotations

import sqlite3


def move_ack_cursor(conn: sqlite3.Connection, sink: str, acked_seq: int, utc: str) -> None:
    conn.execute(
        "INSERT INTO outbox_acks (sink, acked_seq, updated_utc) VALUES (?, ?, ?)"
        " ON CONFLICT (sink) DO UPDATE SET acked_seq = excluded.acked_seq,"
        " updated_utc = excluded.updated_utc", [sink, acked_seq, utc])


def register_sink(conn: sqlite3.Connection, sink: str, utc: str) -> None:
    """A sink that is configured but has acknowledged nothing yet gets its cursor at 0, so
    that the outbox retention (edge.store._retention) keeps every row it still needs."""
    conn.execute("INSERT OR IGNORE INTO outbox_acks (sink, acked_seq, updated_utc)"
                 " VALUES (?, 0, ?)", [sink, utc])
