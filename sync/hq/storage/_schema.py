"""HQ's one schema, for SQLite and PostgreSQL alike (only the binary type differs).

Records are kept once per (id, version); ``batches`` remembers every batch committed (its
SHA-256 answers a box whose acknowledgement was lost); ``seen_signatures`` refuses replays
inside the timestamp window; ``boxes`` holds each box's key (and the one it replaces while a
rotation is under way), when it was last seen and its last heartbeat; ``partials`` keeps the
bytes of broken uploads so that any worker can continue them; ``audio_files`` names each
recording HQ holds whole (the file itself is on disk under the audio directory, ``path``
relative to it)."""

from __future__ import annotations

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    record_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    box TEXT NOT NULL,
    kind TEXT NOT NULL,
    seq BIGINT NOT NULL,
    created_utc TEXT NOT NULL,
    body TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    received_utc TEXT NOT NULL,
    PRIMARY KEY (record_id, version)
);
CREATE INDEX IF NOT EXISTS records_kind ON records (kind, box, created_utc);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    box TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    records BIGINT NOT NULL,
    new_records BIGINT NOT NULL,
    received_utc TEXT NOT NULL,
    deliveries BIGINT NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS callbacks (
    box TEXT NOT NULL,
    call_id TEXT NOT NULL,
    requested_utc TEXT NOT NULL,
    number TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    received_utc TEXT NOT NULL,
    PRIMARY KEY (box, call_id, requested_utc)
);
CREATE TABLE IF NOT EXISTS seen_signatures (
    signature TEXT PRIMARY KEY,
    timestamp_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS boxes (
    box TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until TEXT,
    added_utc TEXT NOT NULL,
    last_seen_utc TEXT,
    heartbeat TEXT,
    heartbeat_utc TEXT
);
CREATE TABLE IF NOT EXISTS partials (
    box TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    data {blob} NOT NULL,
    kept_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (box, batch_id)
);
CREATE TABLE IF NOT EXISTS audio_files (
    reference TEXT PRIMARY KEY,
    box TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    format TEXT NOT NULL,
    stored_utc TEXT NOT NULL
);
"""


def schema(blob_type: str) -> list[str]:
    """The statements, one by one, with the dialect's binary type."""
    return [s.strip() for s in SCHEMA.format(blob=blob_type).split(";") if s.strip()]
