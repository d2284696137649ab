"""Ringing: when a call that rings is over, and when RINGs nobody can name become a call.
Pure: every reading of the clock is passed in.

Some firmware lists a ringing call in ``AT+CLCC`` late, or never. So while a call rings, an empty
list ends it only once every read for ``confirm_s`` has been empty and no RING came in that time
(a module repeats RING every few seconds while the call rings). A definite report (NO CARRIER,
VOICE CALL: END, MISSED_CALL) ends it at once; the line handles those itself.
"""

from __future__ import annotations


class RingingCheck:
    """For one ringing call: feed it RINGs and call-list reads; ``empty`` says when it is gone."""

    def __init__(self, confirm_s: float, now: float) -> None:
        self.confirm_s = confirm_s
        self._last_ring = now
        self._empty_since: float | None = None

    def ring(self, now: float) -> None:
        self._last_ring = max(self._last_ring, now)

    def listed(self) -> None:
        self._empty_since = None

    def empty(self, now: float) -> bool:
        """The list had no call in it; True when that now proves the call is gone."""
        if self._empty_since is None:
            self._empty_since = now
        return (now - self._empty_since >= self.confirm_s
                and now - self._last_ring >= self.confirm_s)


class UnknownRings:
    """RINGs that neither +CLIP nor the call list name. After ``needed`` of them in one run the
    call is answered all the same, caller unknown; a pause longer than ``gap_s`` starts a new
    run (a caller who gave up, then another)."""

    def __init__(self, needed: int, gap_s: float) -> None:
        self.needed = max(1, needed)
        self.gap_s = gap_s
        self._count = 0
        self._last: float | None = None

    def ring(self, now: float) -> None:
        if self._last is not None and now - self._last > self.gap_s:
            self._count = 0
        self._count += 1
        self._last = now

    @property
    def due(self) -> bool:
        return self._count >= self.needed

    def reset(self) -> None:
        self._count = 0
        self._last = None
