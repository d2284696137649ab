"""Events a call reports to the server, in the order they happened."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class KeyPressed:
    """One key press (0-9, *, #, A-D). A held key is one press: lines de-duplicate."""

    digit: str


@dataclass(frozen=True, slots=True)
class PlaybackFinished:
    """The playlist started by ``Call.play(play_id, ...)`` ended or was stopped.

    Every ``play`` produces exactly one of these, ``interrupted`` when ``stop_playback`` (or a
    newer ``play``) cut it short.
    """

    play_id: int
    interrupted: bool = False


@dataclass(frozen=True, slots=True)
class RemoteHangup:
    """The far end hung up or the line lost the call (modem reboot, network loss)."""

    reason: str = "remote"


# Why a recording stopped: the caller fell silent for ``silence_s``, pressed a finish key,
# reached ``max_s``, or hung up; the server stopped it (``stop_recording``); it could not be
# written; or the line cannot record at all.
RECORDING_REASONS = ("silence", "key", "max", "hangup", "stopped", "failed", "unsupported")


@dataclass(frozen=True, slots=True)
class RecordingFinished:
    """The recording started by ``Call.record(record_id, ...)`` stopped. Every ``record``
    produces exactly one of these, before the call's ``RemoteHangup``.

    ``path`` is the complete WAV, already durable (written under a temporary name, fsynced,
    renamed, directory fsynced), or None when nothing was kept (nothing heard, a failure, a
    line that cannot record). ``seconds`` is the length kept; ``key`` the finish key that
    ended it (reason ``key``), else "".
    """

    record_id: int
    path: Path | None
    seconds: float
    reason: str
    key: str = ""

    def __post_init__(self) -> None:
        if self.reason not in RECORDING_REASONS:
            raise ValueError(f"unknown recording reason {self.reason!r}")


CallEvent = KeyPressed | PlaybackFinished | RemoteHangup | RecordingFinished

KEYS = frozenset("0123456789*#ABCD")
