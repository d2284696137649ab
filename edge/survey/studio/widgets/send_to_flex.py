"""send-to-flex -> ``cloud``: a Flex agent is out of reach offline, so ``failedToEnqueue``."""

from __future__ import annotations

from typing import Any

from .._context import FlowContext
from ._cloud import events

TYPE = "send-to-flex"
EVENTS = frozenset({'callComplete', 'callFailure', 'failedToEnqueue'})
FAILURE = "failedToEnqueue"


def convert(name: str, state: dict[str, Any], ctx: FlowContext) -> list[dict[str, Any]]:
    return [{"name": name, "type": "cloud", "widget": TYPE, "events": events(state, EVENTS),
             "failure": FAILURE, "properties": _kept(state)}]


def _kept(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.get("properties", {}).items() if k != "offset"}
