"""The durable store (SQLite via sqlite-utils): calls, answers, events, and the outbox that
sync/ reads. Public face: :class:`Store` (writes) and :class:`StoreReads` (every read other
modules need of the store's tables). The records it takes and gives are in edge.records."""

from ._acks import move_ack_cursor, register_sink
from ._migrations import migrations
from ._outbound import Attempt, OutboundStore
from ._reads import StoreReads
from ._recording_room import Room, mark_audio_held
from ._recordings import LINK_COPY_SUFFIXES, RECORDINGS_DIR, Recordings
from ._room import room_problem
from ._store import (
    DB_NAME,
    DISPOSITIONS,
    Store,
    StoreBusy,
    StoreFull,
    StoreUnavailable,
    as_unavailable,
)
from ._wal import CHECKPOINT_INTERVAL_S, apply_wal_policy

__all__ = [
    "CHECKPOINT_INTERVAL_S",
    "DB_NAME",
    "DISPOSITIONS",
    "LINK_COPY_SUFFIXES",
    "RECORDINGS_DIR",
    "Attempt",
    "OutboundStore",
    "Recordings",
    "Room",
    "Store",
    "StoreBusy",
    "StoreFull",
    "StoreReads",
    "StoreUnavailable",
    "apply_wal_policy",
    "as_unavailable",
    "mark_audio_held",
    "migrations",
    "move_ack_cursor",
    "register_sink",
    "room_problem",
]
