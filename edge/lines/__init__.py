"""The line interface: what a telephone line (SIP, GSM modem, simulated) gives the server.

Public face::

    Line, Call, CallerId, LineStatus, CallGone      the interface
    Dialer, DialResult, DIAL_OUTCOMES                placing calls (lines that can)
    BaseCall                                         the shared part of every line's Call
    KeyPressed, PlaybackFinished, RemoteHangup       events a call reports
    Utterance                                        a prompt to play
    LineKind, LineContext                            how a line kind declares itself
                                                     (edge.plugins.line_kinds() finds them)
"""

from ._base import BaseCall
from ._call import DIAL_OUTCOMES, Call, CallerId, CallGone, Dialer, DialResult, Line, LineStatus
from ._events import KEYS, CallEvent, KeyPressed, PlaybackFinished, RemoteHangup
from ._kind import LineContext, LineKind
from ._prompt import Utterance

__all__ = [
    "DIAL_OUTCOMES",
    "KEYS",
    "BaseCall",
    "Call",
    "CallEvent",
    "CallGone",
    "CallerId",
    "DialResult",
    "Dialer",
    "KeyPressed",
    "Line",
    "LineContext",
    "LineKind",
    "LineStatus",
    "PlaybackFinished",
    "RemoteHangup",
    "Utterance",
]
