"""The line interface: what a telephone line (SIP, GSM modem, simulated) gives the server.

Public face::

    Line, Call, CallerId, LineStatus, CallGone      the interface
    BaseCall                                         the shared part of every line's Call
    KeyPressed, PlaybackFinished, RemoteHangup       events a call reports
    Utterance                                        a prompt to play
    LineKind, LineContext                            how a line kind declares itself
                                                     (edge.plugins.line_kinds() finds them)
"""

from ._base import BaseCall
from ._call import Call, CallerId, CallGone, Line, LineStatus
from ._events import KEYS, CallEvent, KeyPressed, PlaybackFinished, RemoteHangup
from ._kind import LineContext, LineKind
from ._prompt import Utterance

__all__ = [
    "KEYS",
    "BaseCall",
    "Call",
    "CallEvent",
    "CallGone",
    "CallerId",
    "KeyPressed",
    "Line",
    "LineContext",
    "LineKind",
    "LineStatus",
    "PlaybackFinished",
    "RemoteHangup",
    "Utterance",
]
