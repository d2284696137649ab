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
def m003_outbound(db: Database) -> None:
    # Every call the box is to place: callbacks (missed, busy, requested, cut) and campaign
    # numbers. ``number`` is the raw number, the one place it lives, kept only while the job
    # may still dial and erased by the retention purge; ``caller`` is its pseudonym (dedup and
    # opt-outs after erasure). The truth about what is due lives here, not in a scheduler.
    db["outbound"].create(
        {"id": str, "kind": str, "number": str, "caller": str, "source_call": str,
         "campaign": str, "survey": str, "created_utc": str, "due_utc": str, "attempts": int,
         "status": str, "last_outcome": str, "done_utc": str, "version": int},
        pk="id",
        not_null={"kind", "caller", "created_utc", "due_utc", "attempts", "status", "version"},
        defaults={"attempts": 0, "status": "pending", "version": 1},
    )
    db["outbound"].create_index(["status", "due_utc"])
    db["outbound"].create_index(["caller", "status"])
    db["outbound"].create_index(["campaign", "status"])
    # One row per dial, committed before the dial starts: after a kill -9 an attempt without
    # an outcome is known to have been (maybe) placed and is never placed again.
    db["outbound_attempts"].create(
        {"id": str, "job": str, "n": int, "line": str, "started_utc": str,
         "started_mono": float, "boot_id": str, "clock_quality": str, "outcome": str,
         "ended_utc": str, "seconds": float, "call_id": str},
        pk="id",
        foreign_keys=[("job", "outbound", "id")],
        not_null={"job", "n", "started_utc", "started_mono", "boot_id", "clock_quality"},
    )
    db["outbound_attempts"].create_index(["job"])
    # A call the box placed names its attempt (NULL for calls that came in).
    db["calls"].add_column("attempt", str)
    db["outbound_attempts"].create_index(["started_utc"])
    db["campaigns"].create(
        {"id": str, "name": str, "survey": str, "status": str, "created_utc": str,
         "numbers": int, "invalid": int, "duplicates": int, "opted_out": int},
        pk="id", not_null={"name", "status", "created_utc"},
    )
    db["campaigns"].create_index(["name"], unique=True)
    # Callers who pressed the opt-out key, by pseudonym: never called by a campaign again.
    db["opt_outs"].create({"caller": str, "utc": str, "call_id": str}, pk="caller")
    db["meta"].insert({"key": "next_job_no", "value": "1"}, pk="key", replace=True)
    # Callbacks asked for before this version become jobs of kind "requested".
    epoch = db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0]
    rows = db.execute(
        "SELECT cb.call_id, cb.number, cb.requested_utc, cb.status, cb.done_utc, c.caller"
        " FROM callbacks cb JOIN calls c ON c.id = cb.call_id"
        " ORDER BY cb.requested_utc").fetchall()
    for no, (call_id, number, requested, status, done, caller) in enumerate(rows, 1):
        box = call_id.split(".")[0]
        pending = status == "pending"
        db["outbound"].insert({
            "id": f"{box}.{epoch}.j{no}", "kind": "requested",
            "number": number if pending else None, "caller": caller or "p:unknown",
            "source_call": call_id, "created_utc": requested, "due_utc": requested,
            "status": "pending" if pending else "done", "done_utc": done})
    db.execute("UPDATE meta SET value = ? WHERE key = 'next_job_no'", [str(len(rows) + 1)])
    db["callbacks"].drop()


@migrations()
def m004_call_results(db: Database) -> None:
    # A call's Studio-shaped results (widget outputs, flow variables): the newest version per
    # call, for export; every version also goes through the outbox.
    db["call_results"].create(
        {"call_id": str, "version": int, "body": str, "utc": str},
        pk="call_id",
        foreign_keys=[("call_id", "calls", "id")],
        not_null={"version", "body", "utc"},
    )


@migrations()
def m005_audio(db: Database) -> None:
    # Recorded answers (issue #13): one row per sound file under recordings/, written in the
    # answer's own transaction once the file is durable; the answer's value is ``reference``.
    # HQ fetches the bytes separately (sync's audio upload); this row says what to fetch and
    # how to check it (bytes, sha256), and the outbox carries it as an ``audio`` record.
    db["audio"].create(
        {"reference": str, "call_id": str, "answer_id": str, "bytes": int, "sha256": str,
         "seconds": float, "format": str, "utc": str},
        pk="reference",
        foreign_keys=[("call_id", "calls", "id"), ("answer_id", "answers", "id")],
        not_null={"call_id", "answer_id", "bytes", "sha256", "seconds", "format", "utc"},
    )
    db["audio"].create_index(["call_id"])


@migrations()
def m006_audio_room(db: Database) -> None:
    # Room for recordings (edge.store._recording_room): when HQ confirmed it holds a
    # recording (``held_utc``), and when the box removed its own WAV to make room
    # (``removed_utc``). A recording HQ does not hold is never removed.
    db["audio"].add_column("held_utc", str)
    db["audio"].add_column("removed_utc", str)
