"""A survey problem with its location, as ``edgecall survey check`` prints it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    path: str  # JSON path in the authoring file, e.g. "$.states[3].options[1].key"
    message: str
    state: str | None = None
    severity: str = "error"  # "error" makes the survey invalid; "warning" does not

    def __str__(self) -> str:
        where = self.path.removeprefix("$.") if self.path != "$" else "file"
        state = f" (state {self.state!r})" if self.state else ""
        return f"{self.severity}: {where} -> {self.message}{state}"


class SurveyError(Exception):
    """A survey that cannot be used; ``problems`` lists every error found."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        first = f"{errors[0]}" if errors else "invalid"
        more = (f" (and {len(errors) - 1} more; run 'edgecall survey check')"
                if len(errors) > 1 else "")
        super().__init__(f"{source}: {first}{more}")


def suggestion(wrong: Any, known: Iterable[str]) -> str:
    """ " (did you mean 'household'?)" when ``wrong`` is a near miss of a known name."""
    if not isinstance(wrong, str):
        return ""
    close = difflib.get_close_matches(wrong, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def shown(value: Any) -> str:
    """A value as a message quotes it: JSON's words, never Python's ("nothing", not None)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list) and len(repr(value)) > 60:
        return "an object" if isinstance(value, dict) else "a list"
    return repr(value)
