"""The interface every telephone line implements (SIP in hardware/sip, GSM modem in
hardware/modem, the simulated line in edge.lines.simulated)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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

    def record(self, record_id: int, path: Path, max_s: float, silence_s: float,
               finish_keys: str) -> None:
        """Start recording the caller into ``path`` and return at once (see
        docs/design.md, "Recording"). The file is WAV, 8 kHz, 16-bit mono PCM
        (edge.lines.recording_problem checks it).

        The recording stops after ``silence_s`` seconds of silence (0: never), at ``max_s``
        seconds, on a key in ``finish_keys`` (which is not reported as a key), on hang-up, or
        on ``stop_recording``. Then the call reports exactly one ``RecordingFinished(record_id,
        path | None, seconds, reason, key)``, only once the file is complete and durable
        (temporary name beside ``path``, fsync, rename, directory fsync), and before any
        ``RemoteHangup``. A line that cannot record reports reason ``unsupported`` at once
        (``BaseCall``'s default). One recording at a time (a new one replaces one never
        reported, which is reported ``failed``); the server plays no prompt meanwhile.
        """

    def stop_recording(self) -> None:
        """Stop the recording in progress (its report follows, reason ``stopped``). No-op
        when none is."""

    def transfer(self, transfer_id: int, number: str, timeout_s: float) -> None:
        """Hand the caller to ``number`` (a blind transfer: the line, or the gateway behind
        it, calls the number and connects the caller; the box leaves the call) and return at
        once. The number is E.164 or as the operator wrote it. The call reports exactly one
        ``TransferFinished(transfer_id, status)`` (``TRANSFER_STATUSES``): ``completed`` once
        the caller is connected, ``busy``/``no-answer``/``failed`` with the caller still on
        the line, within about ``timeout_s`` of ringing plus the line's own margin. A line
        that cannot transfer reports ``unsupported`` at once (``BaseCall``'s default)."""

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


# What a dial can come to. ``answered`` carries the call; the others are why there is none.
DIAL_OUTCOMES = ("answered", "busy", "no-answer", "rejected", "failed", "unreachable")


@dataclass(frozen=True, slots=True)
class DialResult:
    """``outcome`` is one of DIAL_OUTCOMES; ``call`` is the answered call (already answered:
    its ``answer()`` does nothing); ``detail`` says what the line saw, for the log (never the
    number)."""

    outcome: str
    call: Call | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in DIAL_OUTCOMES:
            raise ValueError(f"unknown dial outcome {self.outcome!r}")
        if (self.outcome == "answered") != (self.call is not None):
            raise ValueError("an answered dial carries its call, and only then")


@runtime_checkable
class Dialer(Protocol):
    """A line that can place calls (``Line.dial``): blocks until the called phone answers or
    the attempt fails, at most ``ring_timeout_s`` of ringing (then it gives up: no-answer).
    Called from a dispatcher thread, never a line thread."""

    def dial(self, number: str, ring_timeout_s: float) -> DialResult: ...


@runtime_checkable
class Line(Protocol):
    """A source of incoming calls (and, when it is also a :class:`Dialer`, of outgoing ones)."""

    @property
    def name(self) -> str: ...

    def start(self, on_call: Callable[[Call], None]) -> None:
        """Begin accepting calls; return at once. ``on_call`` is invoked (from a line thread)
        for each ringing call and must return quickly: the server hands the call to a worker."""

    def stop(self) -> None:
        """Stop accepting calls and release the hardware. Calls already handed over stay up
        until the server hangs them up."""

    def status(self) -> LineStatus: ...
