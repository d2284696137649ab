"""The one write sync makes to the store's tables: moving a sink's acknowledgement cursor.

It runs on the caller's connection, inside the caller's transaction, so that a sink's batch
state and its cursor move together (see sync's ledger)."""

from __future__ import annotations

import sqlite3


def move_ack_cursor(conn: sqlite3.Connection, sink: str, acked_seq: int, utc: str) -> None:
    conn.execute(
        "INSERT INTO outbox_acks (sink, acked_seq, updated_utc) VALUES (?, ?, ?)"
        " ON CONFLICT (sink) DO UPDATE SET acked_seq = excluded.acked_seq,"
        " updated_utc = excluded.updated_utc", [sink, acked_seq, utc])
