"""The interface every telephone line implements (SIP in hardware/sip, GSM modem in
hardware/modem, the simulated line in edge.lines.simulated)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ._events import CallEvent
from ._prompt import Utterance


@dataclass(frozen=True, slots=True)
class CallerId:
    """Who is calling. ``number`` is None when withheld or unavailable.

    The raw number stays inside the box: the server pseudonymises it before it is stored or
    logged (see edge.privacy).
    """

    number: str | None
    withheld: bool = False


@runtime_checkable
class Call(Protocol):
    """One call on a line, driven by one server thread.

    Threading contract: the server calls every method from the one thread that handles the
    call; the line produces events from its own threads into a queue that ``next_event`` reads.
    """

    @property
    def line_name(self) -> str: ...

    @property
    def caller(self) -> CallerId: ...

    def answer(self) -> None:
        """Pick up. Raises CallGone if the caller already hung up."""

    def play(self, play_id: int, utterances: Sequence[Utterance]) -> None:
        """Start playing the utterances in order and return at once.

        A ``play`` while another is playing replaces it (the old one reports
        ``PlaybackFinished(old_id, interrupted=True)``). When the playlist ends, the call reports
        ``PlaybackFinished(play_id)``.
        """

    def stop_playback(self) -> None:
        """Stop what is playing (barge-in). No-op when nothing plays."""

    def next_event(self, timeout: float | None) -> CallEvent | None:
        """The next event, waiting at most ``timeout`` seconds (None: wait until one comes).

        Returns None on timeout. After the far end hung up it returns ``RemoteHangup`` once and
        then keeps returning ``RemoteHangup``.
        """

    def hang_up(self) -> None:
        """End the call from our side. Idempotent; safe after a remote hang-up."""

    def reject(self) -> None:
        """Decline a ringing call without answering, so the caller pays nothing (SIP: 486 Busy
        Here; a modem hangs up without answering). Raises nothing if the caller already left."""


class CallGone(Exception):
    """The call ended before the operation could be done (e.g. answering a cancelled call)."""


@dataclass(slots=True)
class LineStatus:
    """What a line reports to ``edgecall status``/``doctor``: ``state`` is one of
    ``starting``, ``ready``, ``degraded``, ``down``; ``detail`` is one short sentence; ``facts``
    carries numbers such as signal strength. Never raw caller numbers."""

    name: str
    kind: str
    state: str
    detail: str = ""
    facts: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class Line(Protocol):
    """A source of incoming calls."""

    @property
    def name(self) -> str: ...

    def start(self, on_call: Callable[[Call], None]) -> None:
        """Begin accepting calls; return at once. ``on_call`` is invoked (from a line thread)
        for each ringing call and must return quickly: the server hands the call to a worker."""

    def stop(self) -> None:
        """Stop accepting calls and release the hardware. Calls already handed over stay up
        until the server hangs them up."""

    def status(self) -> LineStatus: ...
