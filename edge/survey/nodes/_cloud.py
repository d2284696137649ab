"""What the node kinds of cloud widgets share (HTTP request, SMS, connect, record, and the
rest of Studio's cloud widgets): Studio's events as transitions, Liquid properties, and the
offline choice.

The box has no Twilio cloud behind it. Each kind takes its failure transition (Studio's own
event for it) unless the survey says ``"offline": "queue"`` for a kind that can wait: the
request is then queued for HQ to perform once it is online (synced like a record, under a
stable id) and the call goes on the success path, as it would once HQ has done it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from edge.survey._model import Settings, State, Transition
from edge.survey._problems import shown

from ._base import CompileContext, NodeKind, Render, Step

POLICIES = ("fail", "queue")


class CloudKind(NodeKind):
    behaviour = "route"
    prompt_required = False
    widget: ClassVar[str]  # the Studio widget type it stands for
    events: ClassVar[tuple[str, ...]]  # Studio's events, each a transition
    failure: ClassVar[str]  # the event taken when the widget cannot work on the box
    success: ClassVar[str | None] = None  # the event taken once queued (None: cannot queue)
    fields: ClassVar[frozenset[str]] = frozenset()  # properties kept (Liquid where text)
    offline_outputs: ClassVar[Mapping[str, Any]] = {"offline": True}

    @property
    def keys(self) -> frozenset[str]:  # type: ignore[override]
        return self.fields | frozenset(self.events) | {"next", "offline"}

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        name = raw.get("name")
        if "prompt" in raw:
            ctx.problem(f"{path}.prompt", f"a {self.name} state plays nothing; put the message "
                        "in a say state before it", name)
        default = raw.get("next", following)
        transitions = [ctx.transition(event, raw.get(event, default),
                                      f"{path}.{event}" if event in raw else f"{path}.next",
                                      name) for event in self.events]
        fields: dict[str, Any] = {}
        for key in sorted(self.fields & set(raw)):
            fields[key] = self._field(raw[key], f"{path}.{key}", ctx, name)
        policy = raw.get("offline", ctx.settings.offline.get(self.name, "fail"))
        allowed = POLICIES if self.success else ("fail",)
        if policy not in allowed:
            ctx.problem(f"{path}.offline", f"got {shown(policy)}, expected "
                        + " or ".join(repr(p) for p in allowed)
                        + ("" if self.success else f" (a {self.name} cannot wait for HQ)"),
                        name)
            policy = "fail"
        return {"fields": fields, "offline": policy}, transitions

    def _field(self, value: Any, path: str, ctx: CompileContext, name: str | None) -> Any:
        if isinstance(value, str):
            ctx.template(value, path, name)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict) and isinstance(item.get("value"), str):
                    ctx.template(item["value"], f"{path}[{i}].value", name)
        return value

    def step(self, state: State, render: Render, settings: Settings) -> Step:
        note = {"state": state.name, "widget": self.widget, "offline": state.props["offline"]}
        if state.props["offline"] == "queue" and self.success:
            body = {k: _render(v, render) for k, v in state.props["fields"].items()}
            return Step(self.success, outputs={"queued": True}, request=(self.widget, body),
                        note=note)
        return Step(self.failure, outputs=dict(self.offline_outputs), note=note)


def _render(value: Any, render: Render) -> Any:
    if isinstance(value, str):
        return render(value)
    if isinstance(value, list):
        return [{**item, "value": render(item["value"])}
                if isinstance(item, dict) and isinstance(item.get("value"), str) else item
                for item in value]
    return value
