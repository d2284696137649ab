"""What to upload next of the recordings, as a plain decision over data (no sockets, clocks
or files): records first, then the oldest recording, chunk by chunk from where HQ's copy
stops, within the sink's bytes for the day. The adapter (sync._audio_sync) asks, performs
and books."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Headers of a chunk's request and HQ's answer, counted against the day's budget with the
# chunk: on GPRS a request is not free, and a budget of bodies alone would be overspent.
REQUEST_OVERHEAD = 600


@dataclass(frozen=True, slots=True)
class Pending:
    """A recording HQ does not hold yet: its link copy's size and what HQ holds of it."""

    reference: str
    size: int
    held: int = 0


@dataclass(frozen=True, slots=True)
class DayBudget:
    """Bytes a sink may spend on recordings on one UTC day (``YYYY-MM-DD``)."""

    per_day: int
    day: str
    used: int = 0

    def left(self) -> int:
        return max(0, self.per_day - self.used)

    def on(self, day: str) -> DayBudget:
        """The budget of ``day``: a new day starts from nothing spent."""
        return self if day == self.day else DayBudget(self.per_day, day, 0)

    def spend(self, request_bytes: int) -> DayBudget:
        return DayBudget(self.per_day, self.day, self.used + request_bytes)


@dataclass(frozen=True, slots=True)
class Send:
    reference: str
    offset: int
    length: int

    @property
    def cost(self) -> int:
        return self.length + REQUEST_OVERHEAD


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing to send now: ``records`` (records wait: they go first), ``budget`` (the day's
    bytes are spent), ``done`` (every recording is at HQ)."""

    why: str


RECORDS, BUDGET, DONE = "records", "budget", "done"


def next_step(records_waiting: bool, pending: Sequence[Pending], budget: DayBudget,
              chunk: int) -> Send | Wait:
    """The next chunk to send, or why not. Records always go first: while any wait, no
    recording byte is sent. A chunk is cut to what the day's budget has left."""
    if records_waiting:
        return Wait(RECORDS)
    todo = [p for p in pending if p.held < p.size]
    if not todo:
        return Wait(DONE)
    first = todo[0]  # oldest first: messages reach HQ in the order they were left
    room = budget.left() - REQUEST_OVERHEAD
    if room <= 0:
        return Wait(BUDGET)
    return Send(first.reference, first.held, min(chunk, first.size - first.held, room))


def bytes_per_minute(size: int, seconds: float) -> float:
    """A recording's link cost per minute of sound (status, the bench, docs)."""
    return size / seconds * 60 if seconds > 0 else 0.0
