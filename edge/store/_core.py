"""What the store's helpers (the outbound queue, the retention purge) need of the store, as a
protocol, so they depend on this small face and not on the Store class that builds them."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from sqlite_utils import Database

from edge.clock import Clock, Stamp

from ._reads import StoreReads


class StoreCore(Protocol):
    clock: Clock
    box_id: str
    reads: StoreReads
    _epoch: str

    def _write(self, frees: bool = False) -> AbstractContextManager[Database]: ...

    def _outbox(self, db: Database, record_id: str, version: int, kind: str,
                body: dict[str, Any], stamp: Stamp) -> None: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...
