"""record-voicemail -> ``record``: its settings kept; ``noAudio`` until lines record (issue #13)."""

from __future__ import annotations

from typing import Any

from edge.survey.nodes.record import KIND

from .._context import FlowContext
from ._cloud import events, kept

TYPE = "record-voicemail"
EVENTS = frozenset(KIND.events)


def convert(name: str, state: dict[str, Any], ctx: FlowContext) -> list[dict[str, Any]]:
    return [{"name": name, "type": KIND.name, **kept(state, KIND.fields),
             **events(state, EVENTS)}]
