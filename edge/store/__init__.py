"""The durable store (SQLite via sqlite-utils): calls, answers, events, and the outbox that
sync/ reads. Public face: :class:`Store` and the records it takes and gives."""

from ._migrations import migrations
from ._records import AnswerInput, EventInput, OutboxRow, canonical_json
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
    "AnswerInput",
    "EventInput",
    "OutboxRow",
    "Store",
    "StoreBusy",
    "StoreFull",
    "StoreUnavailable",
    "canonical_json",
    "migrations",
]
