"""A survey problem with its location, as ``edgecall survey check`` prints it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    path: str  # JSON path in the authoring file, e.g. "$.states[3].options[1].key"
    message: str
    state: str | None = None
    severity: str = "error"  # "error" makes the survey invalid; "warning" does not

    def __str__(self) -> str:
        where = f"{self.path} (state {self.state!r})" if self.state else self.path
        return f"{self.severity}: {where}: {self.message}"


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
