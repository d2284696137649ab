"""set-variables -> ``set``: the values stay Liquid, rendered when the call passes."""

from __future__ import annotations

from typing import Any

from .._context import FlowContext, next_of

TYPE = "set-variables"
EVENTS = frozenset({"next"})


def convert(name: str, state: dict[str, Any], ctx: FlowContext) -> list[dict[str, Any]]:
    variables = [{"key": str(v.get("key", "")), "value": _text(v.get("value", ""))}
                 for v in state.get("properties", {}).get("variables", [])
                 if isinstance(v, dict)]
    if not variables:  # Studio allows an empty one: a pass-through
        return [{"name": name, "type": "set", "variables": [],
                 "next": next_of(state, "next")}]
    return [{"name": name, "type": "set", "variables": variables, "next": next_of(state, "next")}]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)
