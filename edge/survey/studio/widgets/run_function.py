"""run-function -> ``cloud``: a Twilio Function is out of reach offline, so ``fail``."""

from __future__ import annotations

from typing import Any

from .._context import FlowContext
from ._cloud import events

TYPE = "run-function"
EVENTS = frozenset({'success', 'fail'})
FAILURE = "fail"


def convert(name: str, state: dict[str, Any], ctx: FlowContext) -> list[dict[str, Any]]:
    return [{"name": name, "type": "cloud", "widget": TYPE, "events": events(state, EVENTS),
             "failure": FAILURE, "properties": _kept(state)}]


def _kept(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.get("properties", {}).items() if k != "offset"}
