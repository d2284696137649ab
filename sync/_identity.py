"""The box id on the records against the configured one. Record ids begin with the id of
the box that made them, and HQ takes records only from the box that owns that prefix: a box
whose ``[box] id`` was changed after it stored records would have HQ refuse them (or, with
the old id's key, send the new ones under a name HQ knows as another box). ``doctor`` warns
about it and ``sync`` refuses to start until it is put right."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def stored_box_ids(db_path: Path, only_unsent: bool = False) -> set[str]:
    """The box ids of the records in the outbox (those not acknowledged by every sink,
    with ``only_unsent``); empty when there is no database yet."""
    if not db_path.is_file():
        return set()
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        after = 0
        if only_unsent:
            row = conn.execute("SELECT min(acked_seq) FROM outbox_acks").fetchone()
            after = row[0] or 0 if row else 0
        rows = conn.execute("SELECT DISTINCT substr(record_id, 1, instr(record_id, '.') - 1)"
                            " FROM outbox WHERE seq > ?", [after]).fetchall()
    except sqlite3.Error:
        return set()
    finally:
        conn.close()
    return {r[0] for r in rows if r[0]}


def mismatch(configured: str, db_path: Path, only_unsent: bool = False) -> str | None:
    """Words for a box id mismatch, None when the records are the configured box's."""
    others = sorted(stored_box_ids(db_path, only_unsent) - {configured})
    if not others:
        return None
    return (f"[box] id is {configured!r} but the outbox holds records of box "
            f"{', '.join(repr(o) for o in others)}: HQ refuses records of another box. "
            "Set [box] id back (or enrol with a token for that id)")
