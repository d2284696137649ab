"""What the widget modules share while one flow is imported."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.survey._problems import Problem

# Studio widget types whose requests can wait for HQ, and the node kind each becomes.
QUEUEABLE = {"make-http-request": "http", "send-message": "message"}


@dataclass
class ImportOptions:
    default_language: str = "en"  # for widgets that name none (Studio speaks en-US then)
    strict: bool = False  # refuse flows with widgets that need Twilio's cloud
    offline: dict[str, str] = field(default_factory=dict)  # widget type -> "fail" | "queue"


@dataclass
class FlowContext:
    states: dict[str, dict[str, Any]]  # the flow's widgets by name
    options: ImportOptions
    problems: list[Problem] = field(default_factory=list)
    languages: set[str] = field(default_factory=set)
    consumed: set[str] = field(default_factory=set)  # splits folded into the gather before them
    files: dict[str, bytes] = field(default_factory=dict)  # generated audio, by relative path
    paths: dict[str, str] = field(default_factory=dict)  # widget name -> "$.states[i]"

    def problem(self, name: str, message: str, where: str = "",
                severity: str = "error") -> None:
        self.problems.append(Problem(self.paths.get(name, "$") + where, message, name,
                                     severity))

    def language(self, raw: Any) -> str:
        """A widget's language as the survey declares it: ``en-US`` -> ``en``; a template is
        kept (rendered per call)."""
        if isinstance(raw, str) and ("{{" in raw or "{%" in raw):
            return raw
        code = primary(raw if isinstance(raw, str) and raw else self.options.default_language)
        self.languages.add(code)
        return code


def primary(code: str) -> str:
    return code.replace("_", "-").split("-")[0].lower() or "en"


def next_of(state: dict[str, Any], event: str) -> str | None:
    for transition in state.get("transitions", []):
        if transition.get("event") == event:
            return transition.get("next") or None
    return None


def slug(text: str) -> str:
    """A friendly name as a stored value: "Health care" -> "health_care", "Español" ->
    "español" (letters of every script kept)."""
    value = re.sub(r"\W+", "_", text.lower()).strip("_")
    return value or "option"


def audio_name(url: str) -> str:
    """Where a ``play`` URL's recording is kept beside the survey."""
    name = Path(url.split("?")[0].split("#")[0]).name or "audio"
    return "audio/" + re.sub(r"[^A-Za-z0-9._-]", "_", name)
