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


# How a transfer ended, in Studio's DialCallStatus words: the caller was connected to the number
# (the line has left the call), the number was busy or did not answer, the transfer failed
# (the gateway refused it, no final report), or this line cannot transfer at all.
TRANSFER_STATUSES = ("completed", "busy", "no-answer", "failed", "unsupported")


@dataclass(frozen=True, slots=True)
class TransferFinished:
    """The transfer started by ``Call.transfer(transfer_id, ...)`` ended. Every ``transfer``
    produces exactly one of these. ``completed``: the caller is connected to the number and
    the line leaves the call (a ``RemoteHangup`` may follow); anything else: the caller is
    still on the line with the box. ``detail`` says what the line saw (never the number)."""

    transfer_id: int
    status: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.status not in TRANSFER_STATUSES:
            raise ValueError(f"unknown transfer status {self.status!r}")


CallEvent = KeyPressed | PlaybackFinished | RemoteHangup | RecordingFinished | TransferFinished

KEYS = frozenset("0123456789*#ABCD")
