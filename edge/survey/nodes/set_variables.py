"""set: give flow variables a value, like Studio's set-variables.

Authoring::

    {"name": "remember", "type": "set", "next": "menu",
     "variables": [{"key": "lang", "value": "es"},
                   {"key": "greeting", "value": "Hola {{widgets.name.Digits}}"}]}

Values are Liquid, rendered when the call passes; later states read them as
``{{flow.variables.lang}}``. Variables are kept for the call and stored with its results
(committed before the next prompt plays), so HQ sees them as Studio's execution context has
them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from edge.survey._model import Settings, State, Transition
from edge.survey._problems import shown

from ._base import CompileContext, NodeKind, Render, Step

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SetVariables(NodeKind):
    name = "set"
    behaviour = "route"
    keys = frozenset({"variables", "next"})
    prompt_required = False

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        name = raw.get("name")
        if "prompt" in raw:
            ctx.problem(f"{path}.prompt", "a set state plays nothing; remove the prompt", name)
        given = raw.get("variables")
        if isinstance(given, dict):
            given = [{"key": k, "value": v} for k, v in given.items()]
        if not isinstance(given, list):  # an empty list passes straight on, as in Studio
            ctx.problem(f"{path}.variables", 'expected a list such as [{"key": "lang", '
                        '"value": "es"}]', name)
            given = []
        variables: list[tuple[str, str]] = []
        for i, entry in enumerate(given):
            vpath = f"{path}.variables[{i}]"
            if not isinstance(entry, dict) or set(entry) - {"key", "value"}:
                ctx.problem(vpath, 'expected {"key": ..., "value": ...}', name)
                continue
            key, value = entry.get("key"), entry.get("value", "")
            if not isinstance(key, str) or not _KEY.match(key):
                ctx.problem(f"{vpath}.key", "expected a name of letters, digits and _ "
                            f"(not starting with a digit), got {shown(key)}" if key is not None
                            else "missing: the variable's name", name)
                continue
            if isinstance(value, bool):
                value = "true" if value else "false"
            if isinstance(value, int | float):
                value = str(value)
            if not isinstance(value, str):
                ctx.problem(f"{vpath}.value", f"expected text (Liquid allowed), got {shown(value)}",
                            name)
                continue
            ctx.template(value, f"{vpath}.value", name)
            variables.append((key, value))
        transition = ctx.transition("next", raw.get("next", following), f"{path}.next", name)
        return {"variables": tuple(variables)}, [transition]

    def step(self, state: State, render: Render, settings: Settings) -> Step:
        values: dict[str, str] = {}
        for key, value in state.props["variables"]:
            values[key] = render(value)
        return Step("next", variables=values,
                    note={"state": state.name, "variables": sorted(values)})


KIND = SetVariables()
