"""One doctor check's outcome: what was checked, how it went, and what to do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class CheckResult:
    name: str  # "data directory", "modem signal", ...
    status: str  # ok | warn | fail
    message: str  # what was found, one sentence
    fix: str = ""  # what to do, for warn and fail
    facts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ok(name: str, message: str, **facts: Any) -> CheckResult:
    return CheckResult(name, OK, message, "", facts)


def warn(name: str, message: str, fix: str, **facts: Any) -> CheckResult:
    return CheckResult(name, WARN, message, fix, facts)


def fail(name: str, message: str, fix: str, **facts: Any) -> CheckResult:
    return CheckResult(name, FAIL, message, fix, facts)
