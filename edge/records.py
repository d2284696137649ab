"""The shared vocabulary at the bottom of the house: the records the engine produces and the
store keeps (answers, events), the outbox rows sync reads, and canonical JSON, so a record's
bytes are fixed at birth. Plain data with no dependencies: the sans-IO engine imports this, never
the store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Built once: json.dumps with these options would build an encoder per call (HQ spells
# millions of records).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(body: dict[str, Any]) -> str:
    """One spelling per record: sorted keys, no spaces, UTF-8 kept (not \\u-escaped)."""
    return _CANONICAL.encode(body)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    record_id: str
    version: int
    kind: str  # "call" | "answer" | "clock" | "results" | "request" | "audio"
    body: str  # canonical JSON
    created_utc: str

    def data(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class AnswerInput:
    """One answered question, as the engine reported it."""

    question: str
    raw: str  # keys as pressed, finish key included
    value: str  # interpreted value ("food", "12", "yes", "fr")
    attempts: int  # prompts played for it, the answered one included
    invalid: int  # invalid entries before the answer
    timeouts: int  # silences before the answer


@dataclass(frozen=True, slots=True)
class AudioInput:
    """A recorded answer's sound, as the engine knows it: ``reference`` (the name the adapter
    gave the file, ``<call id>/<state>[-<visit>].wav`` under the box's recordings directory;
    also the answer's value) and its length."""

    reference: str
    seconds: float


@dataclass(frozen=True, slots=True)
class AudioFile:
    """What the store keeps of a recording whose file is complete and durable: enough for
    HQ to fetch it and check what it got."""

    reference: str
    bytes: int
    sha256: str  # hex digest of the whole file
    seconds: float
    format: str  # "wav/pcm_s16le/8000/1"


@dataclass(frozen=True, slots=True)
class EventInput:
    kind: str
    detail: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ResultsInput:
    """A call's results shaped like Studio's execution context: ``widgets`` (each widget's
    outputs, e.g. ``{"menu": {"Digits": "2"}}``) and ``variables`` (``flow.variables``).
    ``version`` counts up within the call: the newest version is the call's results."""

    version: int
    widgets: dict[str, Any]
    variables: dict[str, str]


@dataclass(frozen=True, slots=True)
class RequestInput:
    """Work a cloud widget would have done online (an HTTP request, an SMS), queued for HQ to
    perform once. ``state`` and ``visit`` make its id stable, so HQ never performs it twice."""

    state: str
    visit: int
    widget: str  # the Studio widget type: "make-http-request" | "send-message"
    body: dict[str, Any]
