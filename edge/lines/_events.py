"""Events a call reports to the server, in the order they happened."""

from __future__ import annotations

from dataclasses import dataclass


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


CallEvent = KeyPressed | PlaybackFinished | RemoteHangup

KEYS = frozenset("0123456789*#ABCD")
