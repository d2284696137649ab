"""Shared helpers for sync tests."""

from __future__ import annotations

from edge.store import Store
from sync._ledger import Ledger, connect
from sync.codec import batch_encoder
from sync.hq import Storage


def ledger_for(store: Store, sink: str = "hq", max_records: int = 120,
               max_bytes: int = 64 * 1024, compression: str = "xz") -> Ledger:
    return Ledger(connect(store.path), sink, store.box_id,
                  batch_encoder(store.box_id, compression), max_records, max_bytes)


def outbox_records(store: Store) -> dict[tuple[str, int], str]:
    return {(r["record_id"], r["version"]): r["body"]
            for r in store.query("SELECT record_id, version, body FROM outbox")}


def hq_records(storage: Storage) -> dict[tuple[str, int], str]:
    return storage.record_bodies()


def assert_exactly_once(store: Store, storage: Storage) -> None:
    expected = outbox_records(store)
    got = hq_records(storage)
    assert storage.count() == len(expected)  # no duplicates (primary key) and nothing missing
    assert got == expected  # same bodies, byte for byte


def dump(storage: Storage) -> str:
    """Every row of every table HQ keeps, as text (to look for what must not be there)."""
    tables = ("records", "batches", "callbacks", "seen_signatures", "boxes")
    return "\n".join(repr(row) for table in tables
                     for row in storage._rows(f"SELECT * FROM {table}"))
