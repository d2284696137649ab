"""What the engine is fed. The adapter (edge.server) turns line events and timers into these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Key:
    digit: str


@dataclass(frozen=True, slots=True)
class PromptEnded:
    play_id: int


@dataclass(frozen=True, slots=True)
class Timeout:
    timer_id: int


@dataclass(frozen=True, slots=True)
class HungUp:
    reason: str = "remote"


@dataclass(frozen=True, slots=True)
class RecordingEnded:
    """The recording asked for by ``Record(record_id, ...)`` stopped. ``reference`` is the
    name the adapter gave the complete file (None when nothing was kept); ``reason`` is the
    line's (edge.lines.RECORDING_REASONS); ``key`` the finish key that ended it."""

    record_id: int
    reference: str | None
    seconds: float
    reason: str
    key: str = ""


@dataclass(frozen=True, slots=True)
class ConnectEnded:
    """The transfer asked for by ``Connect(connect_id, ...)`` ended: ``status`` is the line's
    (edge.lines.TRANSFER_STATUSES)."""

    connect_id: int
    status: str


Event = Key | PromptEnded | Timeout | HungUp | RecordingEnded | ConnectEnded
