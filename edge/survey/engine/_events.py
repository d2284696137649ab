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


Event = Key | PromptEnded | Timeout | HungUp
