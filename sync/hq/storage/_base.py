"""What HQ keeps, behind one interface for SQLite and PostgreSQL: the SQL is shared (written
once with ``?`` placeholders and ``ON CONFLICT``, which both dialects speak); a dialect adds
its connections, its transaction start and its fastest bulk insert."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from edge.records import canonical_json

from ...codec import Record

# Seen signatures older than the window are pruned now and then, apart from the batch
# transaction, so that concurrent commits never wait on each other's deletes.
PRUNE_EVERY_S = 60.0
PARTIALS_PER_BOX = 4  # a box has at most a couple of batches on the wire


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Tx(Protocol):
    """A transaction as the shared SQL sees it."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...


@dataclass(frozen=True)
class StoreResult:
    status: str  # "stored" | "duplicate" | "replay"
    records: int
    new: int


@dataclass(frozen=True)
class BoxInfo:
    box: str
    added_utc: str
    last_seen_utc: str | None
    heartbeat: dict[str, Any] | None
    heartbeat_utc: str | None
    rotating: bool  # an old key is still accepted


def filters(equal: Sequence[tuple[str, str | None]],
            since: tuple[str, str | None] = ("", None)) -> tuple[list[str], list[Any]]:
    """WHERE terms and their parameters for a listing: ``column = value`` for each value
    given, and ``column >= value`` for ``since`` when given."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in equal:
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if since[1]:
        where.append(f"{since[0]} >= ?")
        params.append(since[1])
    return where, params


class Storage:
    """The shared logic. Subclasses implement ``_tx``, ``_rows`` and ``_insert_records``."""

    url: str
    dialect: str

    def __init__(self) -> None:
        self._pruned_at = 0.0

    # -- dialect hooks ---------------------------------------------------------------------
    def _tx(self) -> contextlib.AbstractContextManager[Tx]:
        raise NotImplementedError

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _insert_records(self, tx: Tx, rows: list[tuple[Any, ...]]) -> int:
        """Insert rows unless (id, version) exists; returns how many were new."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self._rows(sql, params)
        return rows[0][0] if rows else None

    # -- boxes and keys --------------------------------------------------------------------
    def add_box(self, box: str, secret: str, now_utc: str) -> bool:
        """A new box with its key; False when the box exists already."""
        with self._tx() as tx:
            cur = tx.execute("INSERT INTO boxes (box, secret, added_utc) VALUES (?, ?, ?)"
                             " ON CONFLICT (box) DO NOTHING", [box, secret, now_utc])
            return cur.rowcount == 1

    def rotate_key(self, box: str, secret: str, old_until_utc: str) -> bool:
        """Give a box a new key; its old one stays valid until ``old_until_utc`` (or until
        the box first signs with the new one) so that nothing in flight is refused."""
        with self._tx() as tx:
            cur = tx.execute("UPDATE boxes SET previous_secret = secret, previous_until = ?,"
                             " secret = ? WHERE box = ?", [old_until_utc, secret, box])
            return cur.rowcount == 1

    def remove_box(self, box: str) -> bool:
        with self._tx() as tx:
            return tx.execute("DELETE FROM boxes WHERE box = ?", [box]).rowcount == 1

    def box_keys(self, box: str, now_utc: str) -> list[tuple[str, bytes]]:
        """("current" | "previous", key) the box may sign with now; [] for an unknown box."""
        rows = self._rows("SELECT secret, previous_secret, previous_until FROM boxes"
                          " WHERE box = ?", [box])
        if not rows:
            return []
        secret, previous, until = rows[0]
        keys = [("current", secret.encode())]
        if previous and until and until > now_utc:
            keys.append(("previous", previous.encode()))
        return keys

    def retire_previous_key(self, box: str) -> None:
        """The box signed with its new key: the old one is no longer needed."""
        with self._tx() as tx:
            tx.execute("UPDATE boxes SET previous_secret = NULL, previous_until = NULL"
                       " WHERE box = ? AND previous_secret IS NOT NULL", [box])

    def import_boxes(self, secrets: dict[str, bytes], now_utc: str) -> int:
        """Boxes of a legacy boxes.toml; a box already known keeps its key."""
        return sum(self.add_box(box, secret.decode(), now_utc)
                   for box, secret in secrets.items())

    def seen(self, box: str, now_utc: str) -> None:
        with self._tx() as tx:
            tx.execute("UPDATE boxes SET last_seen_utc = ? WHERE box = ?", [now_utc, box])

    def record_heartbeat(self, box: str, doc: dict[str, Any], now_utc: str) -> None:
        with self._tx() as tx:
            tx.execute("UPDATE boxes SET heartbeat = ?, heartbeat_utc = ?, last_seen_utc = ?"
                       " WHERE box = ?", [canonical_json(doc), now_utc, now_utc, box])

    def boxes(self) -> list[BoxInfo]:
        rows = self._rows("SELECT box, added_utc, last_seen_utc, heartbeat, heartbeat_utc,"
                          " previous_secret IS NOT NULL FROM boxes ORDER BY box")
        return [BoxInfo(r[0], r[1], r[2], json.loads(r[3]) if r[3] else None, r[4],
                        bool(r[5])) for r in rows]

    # -- batches ---------------------------------------------------------------------------
    def signature_seen(self, signature: str) -> bool:
        return bool(self._rows("SELECT 1 FROM seen_signatures WHERE signature = ?",
                               [signature]))

    def store_batch(self, box: str, batch_id: str, sha256: str, records: Iterable[Record],
                    signature: str | None, timestamp_ms: int, received_utc: str,
                    callbacks: Iterable[dict[str, str]] = (),
                    bodies: Sequence[str] | None = None) -> StoreResult:
        """Commit a batch's new records, its callbacks and its signature in ONE transaction.

        Two workers committing the same batch at once: the second waits on the first's
        ``batches`` row, then finds every record there: one commit, both acknowledge.
        ``bodies``: the records' canonical JSON when the caller has it already."""
        records = list(records)
        texts = bodies if bodies is not None else [canonical_json(r.body) for r in records]
        # Sorted so that two transactions touching the same keys take their locks in one
        # order (no deadlock between workers).
        rows = sorted(((r.id, r.version, box, r.kind, r.seq, r.created_utc, text, batch_id,
                        received_utc) for r, text in zip(records, texts, strict=True)),
                      key=lambda row: (row[0], row[1]))
        calls = sorted((box, c["call"], c["requested_utc"], c["number"], batch_id,
                        received_utc) for c in callbacks)
        with self._tx() as tx:
            if signature is not None and tx.execute(
                    "INSERT INTO seen_signatures (signature, timestamp_ms) VALUES (?, ?)"
                    " ON CONFLICT (signature) DO NOTHING",
                    [signature, timestamp_ms]).rowcount != 1:
                return StoreResult("replay", 0, 0)
            first = tx.execute(
                "INSERT INTO batches (batch_id, box, sha256, records, new_records,"
                " received_utc) VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (batch_id) DO NOTHING",
                [batch_id, box, sha256, len(rows), received_utc]).rowcount == 1
            if not first:
                tx.execute("UPDATE batches SET deliveries = deliveries + 1 WHERE batch_id = ?",
                           [batch_id])
            new = self._insert_records(tx, rows) if rows else 0
            for row in calls:
                tx.execute("INSERT INTO callbacks (box, call_id, requested_utc, number,"
                           " batch_id, received_utc) VALUES (?, ?, ?, ?, ?, ?)"
                           " ON CONFLICT (box, call_id, requested_utc) DO NOTHING", row)
            if first and new:
                tx.execute("UPDATE batches SET new_records = ? WHERE batch_id = ?",
                           [new, batch_id])
            tx.execute("UPDATE boxes SET last_seen_utc = ? WHERE box = ?", [received_utc, box])
        status = "duplicate" if not first or (rows and new == 0) else "stored"
        return StoreResult(status, len(rows), new)

    def prune_signatures(self, oldest_ms: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = now
        with self._tx() as tx:
            tx.execute("DELETE FROM seen_signatures WHERE timestamp_ms < ?", [oldest_ms])

    def batch_sha256(self, box: str, batch_id: str) -> str | None:
        """SHA-256 of the bytes of a batch already committed, None if it is not."""
        return self._value("SELECT sha256 FROM batches WHERE batch_id = ? AND box = ?",
                           [batch_id, box])

    # -- broken uploads --------------------------------------------------------------------
    def keep_partial(self, box: str, batch_id: str, data: bytes, now: float) -> None:
        with self._tx() as tx:
            tx.execute("DELETE FROM partials WHERE box = ? AND batch_id = ?", [box, batch_id])
            if data:
                tx.execute("INSERT INTO partials (box, batch_id, data, kept_at)"
                           " VALUES (?, ?, ?, ?)", [box, batch_id, data, now])
            tx.execute("DELETE FROM partials WHERE box = ? AND batch_id NOT IN (SELECT"
                       " batch_id FROM partials WHERE box = ? ORDER BY kept_at DESC LIMIT ?)",
                       [box, box, PARTIALS_PER_BOX])

    def partial(self, box: str, batch_id: str, ttl_s: float, now: float) -> bytes:
        rows = self._rows("SELECT data, kept_at FROM partials WHERE box = ? AND batch_id = ?",
                          [box, batch_id])
        if not rows or now - rows[0][1] > ttl_s:
            return b""
        return bytes(rows[0][0])

    def drop_partial(self, box: str, batch_id: str) -> None:
        self.keep_partial(box, batch_id, b"", 0.0)

    # -- recordings ------------------------------------------------------------------------
    def audio_record(self, box: str, reference: str) -> dict[str, Any] | None:
        """The body of box's ``audio`` record ``reference`` (what its upload must match)."""
        body = self._value("SELECT body FROM records WHERE record_id = ? AND box = ? AND"
                           " kind = 'audio' ORDER BY version DESC LIMIT 1", [reference, box])
        return json.loads(body) if body else None

    def remember_signature(self, signature: str, timestamp_ms: int) -> bool:
        """False when this signature was already used (a replay)."""
        with self._tx() as tx:
            return tx.execute("INSERT INTO seen_signatures (signature, timestamp_ms)"
                              " VALUES (?, ?) ON CONFLICT (signature) DO NOTHING",
                              [signature, timestamp_ms]).rowcount == 1

    def store_audio(self, box: str, reference: str, path: str, size: int, sha256: str,
                    fmt: str, now_utc: str) -> str:
        """Name a recording's file, once: "stored", "duplicate" (the same bytes were already
        named) or "conflict" (other bytes were)."""
        with self._tx() as tx:
            new = tx.execute("INSERT INTO audio_files (reference, box, path, bytes, sha256,"
                             " format, stored_utc) VALUES (?, ?, ?, ?, ?, ?, ?)"
                             " ON CONFLICT (reference) DO NOTHING",
                             [reference, box, path, size, sha256, fmt, now_utc]).rowcount == 1
            tx.execute("UPDATE boxes SET last_seen_utc = ? WHERE box = ?", [now_utc, box])
        if new:
            return "stored"
        held = self.audio_file(reference)
        return "duplicate" if held and held["sha256"] == sha256 else "conflict"

    def audio_file(self, reference: str) -> dict[str, Any] | None:
        rows = self.audio_files(reference=reference)
        return rows[0] if rows else None

    def audio_files(self, box: str | None = None, reference: str | None = None,
                    path: str | None = None) -> list[dict[str, Any]]:
        """Recordings HQ holds whole: ``{"reference", "box", "path", "bytes", "sha256",
        "format", "stored_utc"}``, by box and reference."""
        where, params = [], []
        for column, value in (("box", box), ("reference", reference), ("path", path)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = "SELECT reference, box, path, bytes, sha256, format, stored_utc FROM audio_files"
        if where:
            sql += " WHERE " + " AND ".join(where)
        names = ("reference", "box", "path", "bytes", "sha256", "format", "stored_utc")
        return [dict(zip(names, r, strict=True))
                for r in self._rows(sql + " ORDER BY box, reference", params)]

    # -- reading ---------------------------------------------------------------------------
    def records(self, kind: str | None = None, all_versions: bool = False,
                box: str | None = None, since_utc: str | None = None
                ) -> list[dict[str, Any]]:
        """Records as dicts (latest version of each id unless ``all_versions``)."""
        sql = ("SELECT record_id, version, box, kind, seq, created_utc, body, batch_id,"
               " received_utc FROM records r")
        where, params = filters((("kind", kind), ("box", box)), ("created_utc", since_utc))
        if not all_versions:
            where.append("version = (SELECT max(version) FROM records x"
                         " WHERE x.record_id = r.record_id)")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY box, seq"
        names = ("id", "version", "box", "kind", "seq", "created_utc", "body", "batch",
                 "received_utc")
        out = []
        for row in self._rows(sql, params):
            item = dict(zip(names, row, strict=True))
            item["body"] = json.loads(item["body"])
            out.append(item)
        return out

    def record_bodies(self) -> dict[tuple[str, int], str]:
        """Every (id, version) -> canonical body, as stored (tests compare byte for byte)."""
        return {(r[0], int(r[1])): r[2]
                for r in self._rows("SELECT record_id, version, body FROM records")}

    def callbacks(self) -> list[dict[str, str]]:
        """Callbacks boxes asked HQ to place (only from boxes that send their numbers)."""
        rows = self._rows("SELECT box, call_id, requested_utc, number FROM callbacks"
                          " ORDER BY box, requested_utc, call_id")
        return [dict(zip(("box", "call", "requested_utc", "number"), r, strict=True))
                for r in rows]

    def count(self) -> int:
        return int(self._value("SELECT count(*) FROM records"))

    def batch_deliveries(self) -> dict[str, int]:
        return {r[0]: int(r[1]) for r in self._rows("SELECT batch_id, deliveries FROM batches")}
