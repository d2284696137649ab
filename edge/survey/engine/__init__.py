"""The sans-IO survey engine: ``Session(survey).start()`` then ``feed(event)``, each returning
the actions for the adapter to carry out in order."""

from ._actions import (
    Action,
    CancelTimer,
    Connect,
    End,
    Note,
    Play,
    QueueRequest,
    Record,
    RecordAnswer,
    RecordResults,
    RequestCallback,
    StartTimer,
    StopPlayback,
    StopRecording,
)
from ._context import CallInfo
from ._driver import Driver
from ._events import ConnectEnded, Event, HungUp, Key, PromptEnded, RecordingEnded, Timeout
from ._session import Session

__all__ = [
    "Action",
    "CallInfo",
    "CancelTimer",
    "Connect",
    "ConnectEnded",
    "Driver",
    "End",
    "Event",
    "HungUp",
    "Key",
    "Note",
    "Play",
    "PromptEnded",
    "QueueRequest",
    "Record",
    "RecordAnswer",
    "RecordResults",
    "RecordingEnded",
    "RequestCallback",
    "Session",
    "StartTimer",
    "StopPlayback",
    "StopRecording",
    "Timeout",
]
