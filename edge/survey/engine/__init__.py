"""The sans-IO survey engine: ``Session(survey).start()`` then ``feed(event)``, each returning
the actions for the adapter to carry out in order."""

from ._actions import (
    Action,
    CancelTimer,
    End,
    Note,
    Play,
    QueueRequest,
    RecordAnswer,
    RecordResults,
    RequestCallback,
    StartTimer,
    StopPlayback,
)
from ._context import CallInfo
from ._driver import Driver
from ._events import Event, HungUp, Key, PromptEnded, Timeout
from ._session import Session

__all__ = [
    "Action",
    "CallInfo",
    "CancelTimer",
    "Driver",
    "End",
    "Event",
    "HungUp",
    "Key",
    "Note",
    "Play",
    "PromptEnded",
    "QueueRequest",
    "RecordAnswer",
    "RecordResults",
    "RequestCallback",
    "Session",
    "StartTimer",
    "StopPlayback",
    "Timeout",
]
