"""The durable store (SQLite via sqlite-utils): calls, answers, events, and the outbox that
sync/ reads. Public face: :class:`Store` (writes) and :class:`StoreReads` (every read other
modules need of the store's tables). The records it takes and gives are in edge.records."""

from ._acks import move_ack_cursor
from ._migrations import migrations
from ._reads import StoreReads
from ._store import (
    DB_NAME,
    DISPOSITIONS,
    Store,
    StoreBusy,
    StoreFull,
    StoreUnavailable,
)

__all__ = [
    "DB_NAME",
    "DISPOSITIONS",
    "Store",
    "StoreBusy",
    "StoreFull",
    "StoreReads",
    "StoreUnavailable",
    "migrations",
    "move_ack_cursor",
]
