"""The line interface: what a telephone line (SIP, GSM modem, simulated) gives the server.

Public face::

    Line, Call, CallerId, LineStatus, CallGone      the interface
    Dialer, DialResult, DIAL_OUTCOMES                placing calls (lines that can)
    BaseCall                                         the shared part of every line's Call
    KeyPressed, PlaybackFinished, RemoteHangup,
    RecordingFinished, TransferFinished              events a call reports
    Recorder, write_durably, pcm_wav,
    recording_problem, temp_path, FORMAT             recording, kept once for every line
    Utterance                                        a prompt to play
    LineKind, LineContext                            how a line kind declares itself
                                                     (edge.plugins.line_kinds() finds them)
"""

from ._base import BaseCall
from ._call import DIAL_OUTCOMES, Call, CallerId, CallGone, Dialer, DialResult, Line, LineStatus
from ._events import (
    KEYS,
    RECORDING_REASONS,
    TRANSFER_STATUSES,
    CallEvent,
    KeyPressed,
    PlaybackFinished,
    RecordingFinished,
    RemoteHangup,
    TransferFinished,
)
from ._kind import LineContext, LineKind
from ._prompt import Utterance
from ._recording import (
    FORMAT,
    Recorder,
    commit_file,
    durable_mkdir,
    pcm_wav,
    recording_problem,
    temp_path,
    write_durably,
)

__all__ = [
    "DIAL_OUTCOMES",
    "FORMAT",
    "KEYS",
    "RECORDING_REASONS",
    "TRANSFER_STATUSES",
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
    "Recorder",
    "RecordingFinished",
    "RemoteHangup",
    "TransferFinished",
    "Utterance",
    "commit_file",
    "durable_mkdir",
    "pcm_wav",
    "recording_problem",
    "temp_path",
    "write_durably",
]
