"""Shared helpers for sync tests."""

from __future__ import annotations

from edge.store import Store
from sync._ledger import Ledger, connect
from sync.codec import batch_encoder
from sync.hq import HqDb


def ledger_for(store: Store, sink: str = "hq", max_records: int = 120,
               max_bytes: int = 64 * 1024, compression: str = "xz") -> Ledger:
    return Ledger(connect(store.path), sink, store.box_id,
                  batch_encoder(store.box_id, compression), max_records, max_bytes)


def outbox_records(store: Store) -> dict[tuple[str, int], str]:
    return {(r["record_id"], r["version"]): r["body"]
            for r in store.query("SELECT record_id, version, body FROM outbox")}


def hq_records(db: HqDb) -> dict[tuple[str, int], str]:
    rows = db.conn.execute("SELECT record_id, version, body FROM records").fetchall()
    return {(r[0], r[1]): r[2] for r in rows}


def assert_exactly_once(store: Store, db: HqDb) -> None:
    expected = outbox_records(store)
    got = hq_records(db)
    assert db.count() == len(expected)  # no duplicates (primary key) and nothing missing
    assert got == expected  # same bodies, byte for byte
