"""What the engine asks the adapter to do, in order. ``RecordAnswer`` must be durable before
the adapter carries out the actions after it (the next prompt)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge.lines import Utterance
from edge.records import AnswerInput, AudioInput, RequestInput, ResultsInput


@dataclass(frozen=True, slots=True)
class Play:
    play_id: int
    utterances: tuple[Utterance, ...]


@dataclass(frozen=True, slots=True)
class StopPlayback:
    pass


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Send ``Timeout(timer_id)`` after ``seconds`` (monotonic) unless replaced or cancelled.
    At most one timer runs; a new one replaces the old."""

    timer_id: int
    seconds: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    pass


@dataclass(frozen=True, slots=True)
class Record:
    """Record the caller (the prompt and tone have played): ``RecordingEnded(record_id, ...)``
    comes back once. ``state`` and ``visit`` are for the adapter to name the file; the rest is
    the line's ``Call.record``."""

    record_id: int
    state: str
    visit: int
    max_s: float
    silence_s: float
    finish_keys: str


@dataclass(frozen=True, slots=True)
class Connect:
    """Hand the caller to ``number`` (Studio's connect-call-to) through the line's
    ``Call.transfer``: ``ConnectEnded(connect_id, status)`` comes back once. ``state`` is for
    the call's timeline."""

    connect_id: int
    state: str
    number: str
    timeout_s: float


@dataclass(frozen=True, slots=True)
class StopRecording:
    """Stop the recording in progress (its ``RecordingEnded`` still comes)."""


@dataclass(frozen=True, slots=True)
class RecordAnswer:
    """``audio``: the answer is a recording (its value is ``audio.reference``)."""

    answer: AnswerInput
    language: str
    sets_language: bool = False
    audio: AudioInput | None = None


@dataclass(frozen=True, slots=True)
class RecordResults:
    """The call's Studio-shaped results (widget outputs, flow variables) changed: store this
    version. Durable before the actions after it, like an answer."""

    results: ResultsInput


@dataclass(frozen=True, slots=True)
class QueueRequest:
    """Queue work for HQ (a cloud widget's request, offline). Durable before the actions
    after it."""

    request: RequestInput


@dataclass(frozen=True, slots=True)
class RequestCallback:
    """The caller asked to be called back: keep their number until the callback is done."""

    question: str


@dataclass(frozen=True, slots=True)
class Note:
    """A line for the call's timeline (events table); never caller data."""

    kind: str
    detail: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class End:
    """The call is over with this disposition; ``hang_up`` is False when the caller already
    hung up."""

    disposition: str
    hang_up: bool = True


Action = (Play | StopPlayback | StartTimer | CancelTimer | Record | StopRecording | Connect
          | RecordAnswer | RecordResults | QueueRequest | RequestCallback | Note | End)
