"""connect-call-to -> ``connect``: ``callCompleted`` with DialCallStatus ``failed`` until lines can
dial out.
"""

from __future__ import annotations

from typing import Any

from edge.survey.nodes.connect import KIND

from .._context import FlowContext
from ._cloud import events, kept

TYPE = "connect-call-to"
EVENTS = frozenset(KIND.events)


def convert(name: str, state: dict[str, Any], ctx: FlowContext) -> list[dict[str, Any]]:
    return [{"name": name, "type": KIND.name, **kept(state, KIND.fields),
             **events(state, EVENTS)}]
