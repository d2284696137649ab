"""cloud: any other Studio widget that needs Twilio's cloud (run-function, send-to-flex,
enqueue-call, capture-payments, run-subflow, add-twiml-redirect, ...), kept so the flow
still runs on the box.

Authoring (written by ``edgecall survey import-studio``)::

    {"name": "lookup", "type": "cloud", "widget": "run-function",
     "events": {"success": "menu", "fail": "sorry"}, "failure": "fail",
     "properties": {"url": "https://example.twil.io/lookup"}}

On the box it takes its ``failure`` event at once (Studio's own failure event of the
widget), with ``{{widgets.X.offline}}`` true.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from edge.survey._model import Settings, State, Transition
from edge.survey._problems import shown

from ._base import CompileContext, NodeKind, Render, Step

_WIDGET = re.compile(r"^[a-z][a-z0-9-]*$")


class Cloud(NodeKind):
    name = "cloud"
    behaviour = "route"
    prompt_required = False
    keys = frozenset({"widget", "events", "failure", "properties"})

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        name = raw.get("name")
        widget = raw.get("widget")
        if not isinstance(widget, str) or not _WIDGET.match(widget):
            ctx.problem(f"{path}.widget", 'expected the Studio widget type, e.g. "run-function"',
                        name)
            widget = "unknown"
        events = raw.get("events")
        if not isinstance(events, dict) or not events:
            ctx.problem(f"{path}.events", 'expected {"<event>": "<next state>" or null, ...}',
                        name)
            events = {}
        transitions = [ctx.transition(str(event), target, f"{path}.events.{event}", name)
                       for event, target in events.items()]
        failure = raw.get("failure")
        if failure not in events:
            ctx.problem(f"{path}.failure", f"expected one of its events ({', '.join(events)}), "
                        f"got {shown(failure)}" if failure is not None else "missing: the event "
                        "taken on the box", name)
            failure = next(iter(events), "")
        properties = raw.get("properties", {})
        if not isinstance(properties, dict):
            ctx.problem(f"{path}.properties", "expected an object", name)
            properties = {}
        return {"widget": widget, "failure": failure, "properties": properties}, transitions

    def step(self, state: State, render: Render, settings: Settings) -> Step:
        return Step(state.props["failure"], outputs={"offline": True},
                    note={"state": state.name, "widget": state.props["widget"],
                          "offline": "fail"})


KIND = Cloud()
