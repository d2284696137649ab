"""digits: keys as typed, like a Studio gather: an account number, a code, a menu choice that a
split reads as ``{{widgets.<name>.Digits}}``.

Authoring::

    {"name": "account", "type": "digits", "prompt": {...}, "finish_key": "#"}

Input ends on the finish key, on ``max_digits`` keys when given, or on silence after a key
(Twilio <Gather>; without ``max_digits`` "123456#" is all six digits). The answer is the keys
without the finish key, leading zeros kept. ``min_digits`` (default 1) makes shorter input
invalid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edge.survey._model import Settings, State, Transition
from edge.survey._problems import shown

from ._base import (
    GATHER_KEYS,
    CompileContext,
    GatherSpec,
    Interpretation,
    NodeKind,
    gather_overrides,
    gather_transitions,
)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 64


class Digits(NodeKind):
    name = "digits"
    behaviour = "gather"
    keys = GATHER_KEYS | {"max_digits", "min_digits", "finish_key"}

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        name = raw.get("name")
        transitions = gather_transitions(raw, path, following, ctx, name)
        max_digits = raw.get("max_digits")
        if max_digits is not None and not _count(max_digits):
            ctx.problem(f"{path}.max_digits", f"expected 1 to 64, got {shown(max_digits)}", name)
            max_digits = None
        min_digits = raw.get("min_digits", 1)
        if not _count(min_digits):
            ctx.problem(f"{path}.min_digits", f"expected 1 to 64, got {shown(min_digits)}", name)
            min_digits = 1
        if max_digits is not None and min_digits > max_digits:
            ctx.problem(f"{path}.min_digits", f"min_digits {min_digits} is above max_digits "
                        f"{max_digits}", name)
        finish_key = raw.get("finish_key", ctx.settings.finish_key)
        if finish_key != "":
            finish_key = ctx.key(finish_key, f"{path}.finish_key", name) or "#"
        if finish_key == "" and max_digits is None:
            ctx.problem(f"{path}.finish_key", "with no finish key and no max_digits only "
                        "silence ends the input; give one of them", name, "warning")
        props = {"max_digits": max_digits, "min_digits": min_digits, "finish_key": finish_key,
                 **gather_overrides(raw, path, ctx, name)}
        return props, transitions

    def gather_spec(self, state: State, settings: Settings) -> GatherSpec:
        return GatherSpec(state.props["max_digits"] or 0, state.props["finish_key"],
                          state.props.get("timeout_s", settings.timeout_s))

    def interpret(self, state: State, digits: str) -> Interpretation | None:
        if len(digits) < state.props["min_digits"]:
            return None
        return Interpretation(digits, "keypress")

    def keys_used(self, state: State) -> list[str]:
        return list("0123456789")


KIND = Digits()
