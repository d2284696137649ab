"""trigger: where a call starts (``incomingCall``); it becomes no state of its own."""

from __future__ import annotations

from typing import Any

from .._context import FlowContext

TYPE = "trigger"
EVENTS = frozenset({"incomingMessage", "incomingCall", "incomingConversationMessage",
                    "incomingRequest", "incomingParent"})


def convert(name: str, state: dict[str, Any], ctx: FlowContext) -> list[dict[str, Any]]:
    return []
