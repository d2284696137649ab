"""What the adapter tells the engine about a call, for Liquid's ``trigger.call`` (as Studio
builds it) and for keeping the caller's number out of everything stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class CallInfo:
    """``from_number`` is the caller's raw number: templates may render and compare it during
    the call; the engine never puts it in a Note, and replaces it with ``caller_label`` (the
    caller's pseudonym) in every result or request it asks the adapter to store."""

    from_number: str | None = None
    to: str | None = None
    call_sid: str | None = None
    caller_label: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)  # {{flow.data.*}} of this call

    def trigger(self) -> dict[str, Any]:
        number, to = self.from_number or "", self.to or ""
        return {"call": {"From": number, "Caller": number, "To": to, "Called": to,
                         "CallSid": self.call_sid or "", "Direction": "inbound",
                         "CallStatus": "in-progress"}}

    def scrub(self, value: Any) -> Any:
        """``value`` with the raw number replaced by the pseudonym, however deep."""
        number = self.from_number
        if not number:
            return value
        if isinstance(value, str):
            return value.replace(number, self.caller_label or "")
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value
