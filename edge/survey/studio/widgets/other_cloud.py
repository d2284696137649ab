"""The rest of Studio's cloud widgets -> ``cloud``, each taking Studio's own failure event on
the box (``events`` as Studio names them)."""

from __future__ import annotations

from typing import Any

from .._context import FlowContext
from ._cloud import events

# widget type -> (its events, the one taken on the box)
CLOUD: dict[str, tuple[tuple[str, ...], str]] = {
    "capture-payments": (("success", "maxFailedAttempts", "providerError", "payInterrupted",
                          "hangup", "validationError"), "providerError"),
    "fork-stream": (("next",), "next"),
    "add-twiml-redirect": (("return", "timeout", "fail"), "fail"),
    "run-subflow": (("completed", "failed"), "failed"),
    "connect-virtual-agent": (("hangup", "return"), "return"),
    "record-call": (("success", "failed"), "failed"),
    "make-outgoing-call": (("answered", "busy", "noAnswer", "failed"), "failed"),
    "send-and-wait-for-reply": (("incomingMessage", "timeout", "deliveryFailure"),
                                "deliveryFailure"),
}


def convert(name: str, state: dict[str, Any], ctx: FlowContext) -> list[dict[str, Any]]:
    widget = state["type"]
    names, failure = CLOUD[widget]
    return [{"name": name, "type": "cloud", "widget": widget,
             "events": events(state, frozenset(names)), "failure": failure,
             "properties": {k: v for k, v in state.get("properties", {}).items()
                            if k != "offset"}}]
