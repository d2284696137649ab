"""Schema of edgecall.db, evolved only by appending migrations (never edit an applied one).

Other packages that keep tables in the same file (sync/) register their own
``Migrations`` set; each set is applied at start, so an upgrade never loses data.
"""

from __future__ import annotations

import secrets

from sqlite_utils import Database, Migrations

migrations = Migrations("edgecall")


@migrations()
def m001_initial(db: Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    # A random token per database: call ids are "<box>.<epoch>.<n>", compact (they compress
    # well in sync batches) and still unique if a box's disk is wiped and its counter restarts.
    db["meta"].insert_all(
        [{"key": "epoch", "value": secrets.token_hex(3)}, {"key": "next_call_no", "value": "1"}]
    )
    db["calls"].create(
        {
            "id": str, "no": int, "line": str, "caller": str, "withheld": int,
            "survey_id": str, "survey_version": str, "language": str,
            "started_utc": str, "started_mono": float, "boot_id": str, "clock_quality": str,
            "ended_utc": str, "ended_mono": float, "duration_s": float,
            "disposition": str, "answered": int, "version": int,
        },
        pk="id",
        not_null={"no", "line", "withheld", "started_utc", "started_mono", "boot_id",
                  "clock_quality", "answered", "version"},
        defaults={"answered": 0, "version": 1, "withheld": 0},
    )
    db["calls"].create_index(["started_utc"])
    db["calls"].create_index(["disposition"])
    db["answers"].create(
        {
            "id": str, "call_id": str, "question": str, "visit": int, "raw": str, "value": str,
            "attempts": int, "invalid": int, "timeouts": int, "survey_version": str,
            "language": str, "utc": str, "mono": float, "boot_id": str, "clock_quality": str,
        },
        pk="id",
        foreign_keys=[("call_id", "calls", "id")],
        not_null={"call_id", "question", "visit", "raw", "attempts", "utc", "mono"},
    )
    db["answers"].create_index(["call_id"])
    db["events"].create(
        {"id": int, "call_id": str, "kind": str, "detail": str, "utc": str, "mono": float},
        pk="id",
        not_null={"kind", "utc", "mono"},
    )
    db["events"].create_index(["call_id"])
    # The outbox: every record HQ must receive, in commit order. ``seq`` is AUTOINCREMENT so a
    # sequence number is never reused, even after the newest rows are deleted.
    db.execute(
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            record_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            kind TEXT NOT NULL,
            body TEXT NOT NULL,
            created_utc TEXT NOT NULL,
            UNIQUE (record_id, version)
        )"""
    )
    # How far each sync sink has been acknowledged (sync/ writes it).
    db["outbox_acks"].create(
        {"sink": str, "acked_seq": int, "updated_utc": str}, pk="sink", not_null={"acked_seq"}
    )
    # Raw numbers, only while a callback is pending; cleared when it is done or cancelled.
    db["callbacks"].create(
        {"call_id": str, "number": str, "requested_utc": str, "status": str, "done_utc": str},
        pk="call_id",
        foreign_keys=[("call_id", "calls", "id")],
    )
    db["clock_corrections"].create(
        {"id": int, "boot_id": str, "mono": float, "utc": str, "previous_utc": str,
         "source": str},
        pk="id",
    )


@migrations()
def m002_messages(db: Database) -> None:
    # SMS a line received; the sender is stored as its pseudonym, like callers.
    db["messages"].create(
        {"id": int, "sender": str, "text": str, "received_utc": str, "mono": float,
         "boot_id": str, "clock_quality": str},
        pk="id",
        not_null={"text", "received_utc"},
    )


@migrations()
def m003_call_results(db: Database) -> None:
    # A call's Studio-shaped results (widget outputs, flow variables): the newest version per
    # call, for export; every version also goes through the outbox.
    db["call_results"].create(
        {"call_id": str, "version": int, "body": str, "utc": str},
        pk="call_id",
        foreign_keys=[("call_id", "calls", "id")],
        not_null={"version", "body", "utc"},
    )
