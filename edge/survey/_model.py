"""The compiled survey: a graph of states and transitions, immutable once loaded.

The shape follows Twilio Studio's flow definition (states with ``transitions`` of ``event`` ->
``next``), so an exported Studio flow can be mapped onto it; the authoring format
(edge.survey._compile) is friendlier and compiles to this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Events a state's transitions are keyed on (Studio names where Studio has one).
AUDIO_COMPLETE = "audioComplete"  # say: the prompt finished
KEYPRESS = "keypress"  # gather: a valid answer (when no match:<value> transition is taken)
TIMEOUT = "timeout"  # gather: silence on every attempt
NO_MATCH = "noMatch"  # gather: invalid on every attempt; split: no condition matched
MATCH_PREFIX = "match:"  # choice/yes-no: "match:<value>"; split: "match:<index>"


@dataclass(frozen=True, slots=True)
class PromptText:
    text: str
    audio: Path | None = None


# language code -> prompt in that language
Prompt = Mapping[str, PromptText]


@dataclass(frozen=True, slots=True)
class Transition:
    event: str
    next: str | None  # None: the call ends here
    path: str = ""  # where the author wrote it ("$.states[3].yes"), for the checker's messages


@dataclass(frozen=True)
class State:
    name: str
    kind: str
    prompt: Prompt | None
    transitions: tuple[Transition, ...]
    props: Mapping[str, Any] = field(default_factory=dict)
    path: str = ""  # JSON path of the state in the authoring file, for messages

    def target(self, event: str) -> tuple[bool, str | None]:
        """(has a transition for the event, its target)."""
        for transition in self.transitions:
            if transition.event == event:
                return True, transition.next
        return False, None


@dataclass(frozen=True)
class Settings:
    timeout_s: float = 5.0  # silence before a gather gives up an attempt (Twilio default 5)
    finish_key: str = "#"  # ends multi-digit input ("" disables)
    max_attempts: int = 3  # prompts played per question before giving up
    opt_out_key: str = "*"  # "" disables
    partial_min_answers: int = 1  # answers after which a hang-up is "partial", not "breakoff"
    barge_in: bool = True  # a key stops a question's prompt
    # What reaching the end of the flow means when the end state does not say (a caller who
    # gave up in silence is "no-input" whatever this says).
    end_disposition: str = "complete"
    max_visits: int = 10  # entries into one state per call before the call is ended (loops)
    # Cloud widgets with an offline choice: node kind -> "fail" | "queue".
    offline: Mapping[str, str] = field(default_factory=lambda: {"http": "fail",
                                                                "message": "fail"})


MESSAGE_NAMES = ("sorry", "no_input", "refused", "busy", "error")


@dataclass(frozen=True)
class Survey:
    id: str
    version: str
    title: str
    languages: tuple[str, ...]
    default_language: str
    initial_state: str
    states: Mapping[str, State]
    settings: Settings
    messages: Mapping[str, Prompt]
    source: Path | None = None
    templates: Mapping[str, Any] = field(default_factory=dict)  # parsed Liquid, by source text
    data: Mapping[str, Any] = field(default_factory=dict)  # {{flow.data.*}}: the author's constants

    def questions(self) -> list[str]:
        """Names of the states that record answers, in authoring order (export columns)."""
        return [s.name for s in self.states.values() if s.kind in ANSWER_KINDS]


ANSWER_KINDS = frozenset({"language", "choice", "yesno", "number", "digits"})
