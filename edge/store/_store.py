"""The durable store: one SQLite file (WAL) shared by the server's call threads.

Durability: ``synchronous=FULL``. In WAL mode NORMAL survives a crash of the process but can
lose the last commits on power loss, which is common where boxes run; FULL fsyncs the WAL on
every commit, so an answer whose commit returned survives both. The cost is one fsync per
answer (see bench/keypress_latency.py), paid before the next prompt starts.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from edge.clock import Clock, ClockCorrection, Stamp
from edge.records import (
    AnswerInput,
    AudioFile,
    EventInput,
    RequestInput,
    ResultsInput,
    canonical_json,
)

from ._migrations import migrations
from ._outbound import OutboundStore
from ._reads import StoreReads
from ._recordings import Recordings
from ._retention import purge_outbox
from ._room import room_problem
from ._wal import apply_wal_policy, checkpoint

log = logging.getLogger("edgecall.store")

DB_NAME = "edgecall.db"
# Less free space than this when the database cannot be opened: the disk is full.
_FULL_BYTES = 1024 * 1024

DISPOSITIONS = ("complete", "partial", "breakoff", "no-input", "refused", "error", "busy")


class StoreUnavailable(Exception):
    """The database cannot take writes now (locked, disk full, read-only). Committed data is
    intact; the server answers new calls with the busy prompt until a probe succeeds."""


class StoreBusy(StoreUnavailable):
    pass


class StoreFull(StoreUnavailable):
    pass


_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED
_FULL_CODES = {13}  # SQLITE_FULL


def _translate(exc: sqlite3.Error) -> StoreUnavailable | None:
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc).lower()
    if code is not None:
        code &= 0xFF  # extended codes carry the primary code in the low byte
    if code in _BUSY_CODES or "locked" in text or "busy" in text:
        return StoreBusy(f"database is locked by another process ({exc})")
    if code in _FULL_CODES or "full" in text:
        return StoreFull(f"disk is full ({exc})")
    if code in (8, 10, 14) or "readonly" in text or "disk i/o" in text:
        return StoreUnavailable(f"database cannot be written ({exc})")
    return None


class Store:
    def __init__(self, db: Database, path: Path, clock: Clock, box_id: str,
                 degraded: StoreUnavailable | None = None) -> None:
        self.db = db
        self.path = path
        self.clock = clock
        self.box_id = box_id
        self._lock = threading.RLock()
        self._epoch = self._meta("epoch")
        self.reads = StoreReads(db.conn, self._lock)
        self.outbound = OutboundStore(self)
        # Why writes are refused (the disk was full at start, or opened read-only); reads go to
        # what could be opened. None: a normal, writable store.
        self.degraded = degraded
        self._reopen: tuple[float, Sequence[Any]] | None = None  # how to open it writable
        # Run when a degraded store takes writes again, still under the store's lock, so that
        # no call begins before they are done (closing calls an earlier stop left open).
        self.on_recovered: list[Callable[[], None]] = []
        self.recordings = Recordings(path.parent, self.reads, self._write,
                                     lambda: self.clock.now().utc)

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        data_dir: Path,
        clock: Clock | None = None,
        box_id: str = "box",
        busy_timeout_s: float = 5.0,
        extra_migrations: Sequence[Any] = (),
        degraded_ok: bool = False,
    ) -> Store:
        """Open (creating and migrating) ``data_dir/edgecall.db``.

        With ``degraded_ok`` (serve) a database that cannot be opened for writing (a full
        disk) is opened read-only instead: the store refuses writes (the server gives callers
        the busy message) until :meth:`recover` opens it writable."""
        try:
            db = _open_writable(data_dir, busy_timeout_s, extra_migrations)
        except StoreUnavailable as exc:
            if not degraded_ok:
                raise
            log.warning("the database cannot take writes (%s): starting read-only; callers "
                        "hear the busy message until it can", exc)
            store = cls(_open_read_only(data_dir / DB_NAME, missing_ok=True),
                        data_dir / DB_NAME, clock or Clock(), box_id, degraded=exc)
            store._reopen = (busy_timeout_s, extra_migrations)
            return store
        return cls(db, data_dir / DB_NAME, clock or Clock(), box_id)

    @classmethod
    def open_read_only(cls, data_dir: Path, clock: Clock | None = None,
                       box_id: str = "box") -> Store:
        """For commands that only read (status): nothing is created, migrated or written, so
        it also works on a full disk or a read-only mount. Writes raise StoreUnavailable."""
        path = data_dir / DB_NAME
        return cls(_open_read_only(path), path, clock or Clock(), box_id,
                   degraded=StoreUnavailable(f"{path} is open read-only"))

    def outdated(self) -> bool:
        """Does the database lack migrations of this version (read-only check)?"""
        return bool(migrations.pending(self.db))

    def recover(self) -> bool:
        """A degraded store tries to open its database writable again (space was freed);
        True when it now takes writes."""
        with self._lock:
            if self.degraded is None:
                return True
            if self._reopen is None:  # opened read-only on purpose
                return False
            busy_timeout_s, extra_migrations = self._reopen
            try:
                db = _open_writable(self.path.parent, busy_timeout_s, extra_migrations)
            except StoreUnavailable as exc:
                self.degraded = exc
                return False
            old, self.db = self.db, db
            self.reads._conn = db.conn
            self._epoch = self._meta("epoch")
            self.degraded = None
            self._reopen = None
            old.conn.close()
            log.warning("the database takes writes again")
            for hook in self.on_recovered:
                hook()
        return True

    def purge_outbox(self, before_utc: str) -> int:
        """Outbox rows every sink has acknowledged, created before ``before_utc``, deleted
        (edge.store._retention); returns how many."""
        return purge_outbox(self, before_utc)

    def checkpoint(self) -> tuple[int, int, int]:
        """The WAL into the database, its file truncated (edge.store._wal); raises
        StoreUnavailable when that cannot be done now."""
        if self.degraded is not None:
            raise self.degraded
        try:
            return checkpoint(self.path)
        except sqlite3.Error as exc:
            raise _translate(exc) or StoreUnavailable(str(exc)) from exc

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()

    @contextmanager
    def _write(self, frees: bool = False) -> Iterator[Database]:
        """One transaction, serialised across threads; SQLite errors become StoreUnavailable.
        Unless it ``frees`` space (a purge), it does not start in the disk's last MiB
        (edge.store._room)."""
        with self._lock:
            if self.degraded is not None:
                raise self.degraded
            if not frees and (reason := room_problem(self.db.conn, self.path.parent)):
                raise StoreFull(reason)
            try:
                with self.db.atomic():
                    yield self.db
            except sqlite3.Error as exc:
                translated = _translate(exc)
                if translated is None:
                    raise
                raise translated from exc

    def _meta(self, key: str) -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0]

    def _outbox(self, db: Database, record_id: str, version: int, kind: str,
                body: dict[str, Any], stamp: Stamp) -> None:
        db.execute(
            "INSERT INTO outbox (record_id, version, kind, body, created_utc)"
            " VALUES (?, ?, ?, ?, ?)",
            [record_id, version, kind, canonical_json(body), stamp.utc],
        )

    def _events(self, db: Database, call_id: str | None, events: Sequence[EventInput],
                stamp: Stamp) -> None:
        if events:
            db.execute("SELECT 1")  # keeps the same transaction
            db.conn.executemany(
                "INSERT INTO events (call_id, kind, detail, utc, mono) VALUES (?, ?, ?, ?, ?)",
                [
                    (call_id, e.kind, json.dumps(e.detail) if e.detail else None, stamp.utc,
                     stamp.mono)
                    for e in events
                ],
            )

    # -- calls ---------------------------------------------------------------------------
    def begin_call(
        self,
        line: str,
        caller: str | None,
        withheld: bool,
        survey_id: str | None,
        survey_version: str | None,
        events: Sequence[EventInput] = (),
        attempt: str | None = None,
    ) -> str:
        """Create the call's row with its stable id and return the id (committed).
        ``attempt``: the outbound attempt that placed it (None for a call that came in)."""
        stamp = self.clock.now()
        with self._write() as db:
            no = int(self._meta("next_call_no"))
            db.execute("UPDATE meta SET value = ? WHERE key = 'next_call_no'", [str(no + 1)])
            call_id = f"{self.box_id}.{self._epoch}.{no}"
            row = {
                "id": call_id, "no": no, "line": line, "caller": caller,
                "withheld": int(withheld), "survey_id": survey_id,
                "survey_version": survey_version, "language": None,
                "started_utc": stamp.utc, "started_mono": stamp.mono, "boot_id": stamp.boot_id,
                "clock_quality": stamp.quality, "answered": 0, "version": 1, "attempt": attempt,
            }
            db["calls"].insert(row)
            self._outbox(db, call_id, 1, "call", _call_body(row), stamp)
            self._events(db, call_id, [EventInput("started"), *events], stamp)
        return call_id

    def record_answer(
        self,
        call_id: str,
        answer: AnswerInput,
        language: str | None,
        survey_version: str | None,
        events: Sequence[EventInput] = (),
        sets_language: bool = False,
        audio: AudioFile | None = None,
    ) -> str:
        """Commit one answer (and the events since the last write). Returns when durable.

        ``audio``: the answer is a recording (its value is ``audio.reference``) whose file is
        already complete and durable; its ``audio`` row and record go in the same
        transaction."""
        stamp = self.clock.now()
        with self._write() as db:
            visit = 1 + db.execute(
                "SELECT count(*) FROM answers WHERE call_id = ? AND question = ?",
                [call_id, answer.question],
            ).fetchone()[0]
            answer_id = f"{call_id}/{answer.question}" + (f"#{visit}" if visit > 1 else "")
            row = {
                "id": answer_id, "call_id": call_id, "question": answer.question,
                "visit": visit, "raw": answer.raw, "value": answer.value,
                "attempts": answer.attempts, "invalid": answer.invalid,
                "timeouts": answer.timeouts, "survey_version": survey_version,
                "language": language, "utc": stamp.utc, "mono": stamp.mono,
                "boot_id": stamp.boot_id, "clock_quality": stamp.quality,
            }
            db["answers"].insert(row)
            if sets_language:
                db.execute("UPDATE calls SET language = ? WHERE id = ?", [answer.value, call_id])
            else:
                db.execute("UPDATE calls SET answered = answered + 1 WHERE id = ?", [call_id])
            self._outbox(db, answer_id, 1, "answer", _answer_body(row), stamp)
            if audio is not None:
                self._audio(db, call_id, answer_id, answer.question, audio, stamp)
            self._events(db, call_id, events, stamp)
        return answer_id

    def _audio(self, db: Database, call_id: str, answer_id: str, question: str,
               audio: AudioFile, stamp: Stamp) -> None:
        """The ``audio`` row and record (id: the reference) of a recorded answer: what HQ
        needs to fetch the file and check it. The bytes travel separately."""
        db["audio"].insert({"reference": audio.reference, "call_id": call_id,
                            "answer_id": answer_id, "bytes": audio.bytes,
                            "sha256": audio.sha256, "seconds": audio.seconds,
                            "format": audio.format, "utc": stamp.utc})
        body = {"id": audio.reference, "call": call_id, "answer": answer_id, "q": question,
                "bytes": audio.bytes, "sha256": audio.sha256, "seconds": audio.seconds,
                "format": audio.format, "utc": stamp.utc, "mono": stamp.mono,
                "boot": stamp.boot_id, "clock": stamp.quality}
        self._outbox(db, audio.reference, 1, "audio", body, stamp)

    def record_results(self, call_id: str, results: ResultsInput,
                       events: Sequence[EventInput] = ()) -> str:
        """Commit a version of the call's results (record ``<call>:results``). Returns when
        durable."""
        stamp = self.clock.now()
        record_id = f"{call_id}:results"
        body = {"id": record_id, "call": call_id, "widgets": results.widgets,
                "flow": {"variables": results.variables}, "utc": stamp.utc, "mono": stamp.mono,
                "boot": stamp.boot_id, "clock": stamp.quality}
        with self._write() as db:
            db["call_results"].upsert({"call_id": call_id, "version": results.version,
                                       "body": canonical_json(body), "utc": stamp.utc},
                                      pk="call_id")
            self._outbox(db, record_id, results.version, "results", body, stamp)
            self._events(db, call_id, events, stamp)
        return record_id

    def queue_request(self, call_id: str, request: RequestInput,
                      events: Sequence[EventInput] = ()) -> str:
        """Queue a cloud widget's request for HQ (record ``<call>:request:<state>[#visit]``,
        version 1: HQ performs each id once). Returns when durable."""
        stamp = self.clock.now()
        record_id = f"{call_id}:request:{request.state}" + (
            f"#{request.visit}" if request.visit > 1 else "")
        body = {"id": record_id, "call": call_id, "state": request.state,
                "widget": request.widget, "request": request.body, "utc": stamp.utc,
                "mono": stamp.mono, "boot": stamp.boot_id, "clock": stamp.quality}
        with self._write() as db:
            self._outbox(db, record_id, 1, "request", body, stamp)
            self._events(db, call_id, [*events, EventInput(
                "request_queued", {"state": request.state, "widget": request.widget})], stamp)
        return record_id

    def add_events(self, call_id: str | None, events: Sequence[EventInput]) -> None:
        if events:
            stamp = self.clock.now()
            with self._write() as db:
                self._events(db, call_id, events, stamp)

    def end_call(self, call_id: str, disposition: str,
                 events: Sequence[EventInput] = ()) -> None:
        """Close the call with its one disposition (a second call is ignored)."""
        if disposition not in DISPOSITIONS:
            raise ValueError(f"unknown disposition {disposition!r}")
        stamp = self.clock.now()
        with self._write() as db:
            current = db.execute(
                "SELECT started_mono, boot_id, disposition, version FROM calls WHERE id = ?",
                [call_id],
            ).fetchone()
            if current is None or current[2] is not None:
                return
            started_mono, boot_id, _, version = current
            duration = round(stamp.mono - started_mono, 3) if boot_id == stamp.boot_id else None
            db.execute(
                "UPDATE calls SET ended_utc = ?, ended_mono = ?, duration_s = ?,"
                " disposition = ?, version = ? WHERE id = ?",
                [stamp.utc, stamp.mono, duration, disposition, version + 1, call_id],
            )
            self._events(db, call_id, [*events, EventInput("ended", {"disposition": disposition})],
                         stamp)
            row = db["calls"].get(call_id)
            self._outbox(db, call_id, version + 1, "call", _call_body(row), stamp)

    def close_interrupted_calls(self) -> int:
        """Calls a crash or power cut left open become ``error`` (never complete)."""
        open_ids = [r[0] for r in self.db.execute(
            "SELECT id FROM calls WHERE disposition IS NULL").fetchall()]
        for call_id in open_ids:
            self.end_call(call_id, "error", [EventInput("interrupted", {"by": "box restart"})])
        return len(open_ids)

    def request_callback(self, call_id: str, number: str) -> str | None:
        """The caller asked to be called back: a job of kind ``requested`` keeps the raw
        number, the one place it is stored, until the callback is done. None when the caller
        already has a call waiting."""
        call = self.reads.call(call_id)
        caller = (call or {}).get("caller") or "p:unknown"
        return self.outbound.enqueue("requested", number, caller, source_call=call_id)

    def record_message(self, sender: str | None, text: str) -> None:
        """An SMS received by a line (``sender`` already pseudonymised)."""
        stamp = self.clock.now()
        with self._write() as db:
            db["messages"].insert({"sender": sender, "text": text, "received_utc": stamp.utc,
                                   "mono": stamp.mono, "boot_id": stamp.boot_id,
                                   "clock_quality": stamp.quality})

    def record_clock_correction(self, correction: ClockCorrection) -> None:
        stamp = self.clock.now()
        body = {
            "boot": correction.boot_id, "mono": correction.mono, "utc": correction.utc,
            "previous_utc": correction.previous_utc, "source": correction.source,
        }
        with self._write() as db:
            row_id = db["clock_corrections"].insert(
                {"boot_id": correction.boot_id, "mono": correction.mono, "utc": correction.utc,
                 "previous_utc": correction.previous_utc, "source": correction.source}
            ).last_pk
            record_id = f"{self.box_id}.{self._epoch}.clock.{row_id}"
            self._outbox(db, record_id, 1, "clock", body, stamp)

    # -- health --------------------------------------------------------------------------
    def probe(self) -> StoreUnavailable | None:
        """Can a write go through now? (An immediate transaction, rolled back.) A degraded
        store first tries to open its database writable again."""
        with self._lock:
            if self.degraded is not None and not self.recover():
                return self.degraded
            if reason := room_problem(self.db.conn, self.path.parent):
                return StoreFull(reason)
            try:
                self.db.conn.execute("BEGIN IMMEDIATE")
                self.db.conn.execute("UPDATE meta SET value = value WHERE key = 'epoch'")
                self.db.conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                if self.db.conn.in_transaction:
                    self.db.conn.execute("ROLLBACK")
                return _translate(exc) or StoreUnavailable(str(exc))
        return None

    def responsive(self, timeout_s: float = 5.0) -> bool:
        """False when the store's lock cannot be taken in time: a wedged writer."""
        if not self._lock.acquire(timeout=timeout_s):
            return False
        self._lock.release()
        return True

    # -- reading (everything else is in self.reads) ----------------------------------------
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Free SQL, for tests and diagnostics; modules ask ``self.reads`` instead."""
        return self.reads._rows(sql, params)


def _open_writable(data_dir: Path, busy_timeout_s: float,
                   extra_migrations: Sequence[Any]) -> Database:
    path = data_dir / DB_NAME
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=busy_timeout_s, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise _unavailable(data_dir, exc) from exc
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        apply_wal_policy(conn)
        db = Database(conn, execute_plugins=False)
        for migration_set in (migrations, *extra_migrations):
            migration_set.apply(db)
    except sqlite3.Error as exc:
        conn.close()
        raise _unavailable(data_dir, exc) from exc
    return db


def as_unavailable(exc: BaseException, data_dir: Path) -> StoreUnavailable:
    """A failure to open or write the database in ``data_dir``, in words (for other
    connections to the file, e.g. sync's): "disk is full" when it is."""
    if isinstance(exc, StoreUnavailable):
        return exc
    return _unavailable(data_dir, exc)


def _unavailable(data_dir: Path, exc: BaseException) -> StoreUnavailable:
    """Opening failed: say "disk is full" when it is (SQLite calls a full disk at open an I/O
    error, as it fails to size its shared-memory file)."""
    try:
        full = shutil.disk_usage(data_dir if data_dir.exists() else data_dir.parent).free \
            < _FULL_BYTES
    except OSError:
        full = False
    if full:
        return StoreFull(f"disk is full in {data_dir} ({exc})")
    translated = _translate(exc) if isinstance(exc, sqlite3.Error) else None
    return translated or StoreUnavailable(f"{data_dir / DB_NAME}: {exc}")


def _open_read_only(path: Path, missing_ok: bool = False) -> Database:
    """The database for reading only, creating nothing.

    Without a WAL file no connection has the database open (SQLite deletes the WAL when the
    last one closes) and every commit is in the file: it is read as immutable (no locks, no
    shared memory), which creates nothing; a read-only connection would leave an empty WAL and
    shared-memory file behind. With a WAL (serve is running) it is read through it, as SQLite
    does; where that fails (a full disk: no room for the shared memory) and the WAL holds
    nothing, as immutable again."""
    if not path.is_file():
        if not missing_ok:
            raise StoreUnavailable(f"no database at {path}")
        # Nothing to read yet (a new box on a full disk): an empty schema answers the reads.
        db = Database(sqlite3.connect(":memory:", check_same_thread=False),
                      execute_plugins=False)
        migrations.apply(db)
        return db
    uri = path.resolve().as_uri()
    wal = path.with_name(path.name + "-wal")
    queries = ["?mode=ro&immutable=1"] if not wal.exists() else ["?mode=ro"]
    if wal.exists() and wal.stat().st_size == 0:
        queries.append("?mode=ro&immutable=1")
    failure: sqlite3.Error | None = None
    for query in queries:
        try:
            conn = sqlite3.connect(uri + query, uri=True, check_same_thread=False)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            failure = exc
            continue
        return Database(conn, execute_plugins=False)
    raise StoreUnavailable(f"{path} cannot be read: {failure}")


def _call_body(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "line": row["line"], "caller": row["caller"],
        "withheld": bool(row["withheld"]), "survey": row["survey_id"],
        "survey_version": row["survey_version"], "language": row["language"],
        "started_utc": row["started_utc"], "started_mono": row["started_mono"],
        "ended_utc": row.get("ended_utc"), "ended_mono": row.get("ended_mono"),
        "duration_s": row.get("duration_s"), "disposition": row.get("disposition"),
        "answered": row["answered"], "boot": row["boot_id"], "clock": row["clock_quality"],
    } | ({"attempt": row["attempt"]} if row.get("attempt") else {})


def _answer_body(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "call": row["call_id"], "q": row["question"], "visit": row["visit"],
        "raw": row["raw"], "value": row["value"], "attempts": row["attempts"],
        "invalid": row["invalid"], "timeouts": row["timeouts"],
        "survey_version": row["survey_version"], "language": row["language"],
        "utc": row["utc"], "mono": row["mono"], "boot": row["boot_id"],
        "clock": row["clock_quality"],
    }
