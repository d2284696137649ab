"""What the cloud widgets' modules share: Studio's events as the node's transitions."""

from __future__ import annotations

from typing import Any

from .._context import FlowContext, next_of


def events(state: dict[str, Any], names: frozenset[str] | tuple[str, ...]) -> dict[str, Any]:
    """Every event as a transition, ``None`` where Studio's is unwired (the flow ends there)."""
    return {event: next_of(state, event) for event in sorted(names)}


def kept(state: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    props = state.get("properties", {})
    return {k: v for k, v in props.items() if k in fields}


def offline(widget: str, ctx: FlowContext) -> dict[str, Any]:
    policy = ctx.options.offline.get(widget)
    return {"offline": policy} if policy else {}
