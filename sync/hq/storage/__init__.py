"""Where HQ keeps what boxes send: one interface (:class:`Storage`), two back ends.
SQLite is the embedded default for one small HQ; PostgreSQL serves a fleet with several
workers. Same schema, same behaviour, same tests."""

from __future__ import annotations

from pathlib import Path

from ._base import BoxInfo, Storage, StoreResult


def open_storage(database: str | Path) -> Storage:
    """``postgresql://...`` (or ``postgres://``) opens PostgreSQL; anything else is the
    path of an SQLite file (``sqlite:///abs/path`` or a plain path)."""
    text = str(database)
    if text.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStorage

        return PostgresStorage(text)
    from .sqlite import SqliteStorage

    return SqliteStorage(Path(text.removeprefix("sqlite://")))


__all__ = ["BoxInfo", "Storage", "StoreResult", "open_storage"]
