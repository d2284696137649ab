"""make-http-request -> ``http``: ``failed`` on the box, or queued for HQ
(``--offline make-http-request=queue``) and then ``success``.
"""

from __future__ import annotations

from typing import Any

from edge.survey.nodes.http import KIND

from .._context import FlowContext
from ._cloud import events, kept, offline

TYPE = "make-http-request"
EVENTS = frozenset(KIND.events)


def convert(name: str, state: dict[str, Any], ctx: FlowContext) -> list[dict[str, Any]]:
    return [{"name": name, "type": KIND.name, **kept(state, KIND.fields),
             **events(state, EVENTS), **offline(TYPE, ctx)}]
