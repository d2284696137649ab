"""choice: one key picks one option; an option may branch (its own ``next``).

Authoring::

    {"name": "need", "type": "choice", "prompt": {...},
     "options": [{"key": "1", "value": "food"}, {"key": "2", "value": "water", "next": "source"}],
     "next": "callback"}

``"multiple": true`` (XLSForm's select_multiple): the caller presses every key that applies,
then the finish key ("13#"); the answer is the chosen values in option order, separated by
spaces, as ODK stores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edge.survey._model import MATCH_PREFIX, Settings, State, Transition
from edge.survey._problems import shown

from ._base import (
    GATHER_KEYS,
    CompileContext,
    GatherSpec,
    Interpretation,
    SingleKeyKind,
    gather_overrides,
    gather_transitions,
)


class Choice(SingleKeyKind):
    name = "choice"
    keys = GATHER_KEYS | {"options", "multiple"}

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        name = raw.get("name")
        transitions = gather_transitions(raw, path, following, ctx, name)
        options: dict[str, str] = {}
        raw_options = raw.get("options")
        if not isinstance(raw_options, list) or not raw_options:
            ctx.problem(f"{path}.options", "expected a non-empty list of options", name)
            raw_options = []
        values: set[str] = set()
        for i, option in enumerate(raw_options):
            option_path = f"{path}.options[{i}]"
            if not isinstance(option, dict) or set(option) - {"key", "value", "next"}:
                ctx.problem(option_path, 'expected {"key": ..., "value": ..., "next"?: ...}',
                            name)
                continue
            key = ctx.key(option.get("key"), f"{option_path}.key", name)
            value = option.get("value")
            if not isinstance(value, str) or not value:
                ctx.problem(f"{option_path}.value", "missing: the value stored for this key"
                            if value is None else
                            f"expected a non-empty string, got {shown(value)}", name)
                continue
            if key is None:
                continue
            if key in options:
                ctx.problem(f"{option_path}.key", f"key {key!r} is used twice in this question "
                            f"(already for {options[key]!r})", name)
                continue
            if value in values:
                ctx.problem(f"{option_path}.value", f"value {value!r} is used twice", name)
                continue
            options[key] = value
            values.add(value)
            if "next" in option:
                transitions.append(ctx.transition(MATCH_PREFIX + value, option["next"],
                                                  f"{option_path}.next", name))
        multiple = raw.get("multiple", False)
        if not isinstance(multiple, bool):
            ctx.problem(f"{path}.multiple", f"expected true or false, got {shown(multiple)}", name)
            multiple = False
        if multiple and any(t.event.startswith(MATCH_PREFIX) for t in transitions):
            ctx.problem(f"{path}.options", "options of a multiple choice cannot branch (no "
                        "option 'next'); use a split after it", name)
        if multiple and ctx.settings.finish_key == "":
            ctx.problem(f"{path}.multiple", "a multiple choice needs the survey's finish_key",
                        name)
        props = {"options": options, "multiple": multiple,
                 **gather_overrides(raw, path, ctx, name)}
        return props, transitions

    def gather_spec(self, state: State, settings: Settings) -> GatherSpec:
        if not state.props.get("multiple"):
            return super().gather_spec(state, settings)
        return GatherSpec(len(state.props["options"]), settings.finish_key or "#",
                          state.props.get("timeout_s", settings.timeout_s))

    def interpret(self, state: State, digits: str) -> Interpretation | None:
        if not state.props.get("multiple"):
            return super().interpret(state, digits)
        options = state.props["options"]
        if not digits or len(set(digits)) != len(digits) or any(d not in options for d in digits):
            return None
        return Interpretation(" ".join(v for k, v in options.items() if k in digits), "keypress")


KIND = Choice()
