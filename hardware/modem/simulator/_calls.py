"""One call on the simulated module, as the model and its mixins (``_transfer``) see it."""

from __future__ import annotations

from dataclasses import dataclass

from ._outgoing import Dialled


@dataclass
class Call:
    number: str | None
    withheld: bool
    clip: bool
    state: str = "ringing"  # ringing, active; a dialled call: dialing, then active
    next_ring: float = 0.0
    started: float = 0.0  # answered at
    rang_at: float = 0.0  # first RING at
    rings_left: int | None = None  # the caller rings off after this many RINGs
    dialled: Dialled | None = None  # set for a call the module placed (ATD)
    index: int = 1  # the call number (+CLCC <idx>, AT+CHLD=1x): 2 for a second call
