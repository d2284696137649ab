"""choice: one key picks one option; an option may branch (its own ``next``).

Authoring::

    {"name": "need", "type": "choice", "prompt": {...},
     "options": [{"key": "1", "value": "food"}, {"key": "2", "value": "water", "next": "source"}],
     "next": "callback"}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edge.survey._model import MATCH_PREFIX, Transition

from ._base import (
    GATHER_KEYS,
    CompileContext,
    SingleKeyKind,
    gather_overrides,
    gather_transitions,
)


class Choice(SingleKeyKind):
    name = "choice"
    keys = GATHER_KEYS | {"options"}

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
                ctx.problem(f"{option_path}.value", f"expected a non-empty string, got {value!r}",
                            name)
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
                transitions.append(Transition(
                    MATCH_PREFIX + value, ctx.target(option["next"], f"{option_path}.next", name)
                ))
        props = {"options": options, **gather_overrides(raw, path, ctx, name)}
        return props, transitions


KIND = Choice()
