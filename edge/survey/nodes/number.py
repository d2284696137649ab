"""number: several digits, ended by the finish key, by ``max_digits`` keys, or by silence
after at least one digit (Twilio <Gather> semantics). Valid when ``min <= value <= max``.

Authoring::

    {"name": "household", "type": "number", "prompt": {...}, "min": 1, "max": 30}

``max_digits`` defaults to the number of digits of ``max``; ``finish_key`` to the survey's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edge.survey._model import Settings, State, Transition

from ._base import (
    GATHER_KEYS,
    CompileContext,
    GatherSpec,
    Interpretation,
    NodeKind,
    gather_overrides,
    gather_transitions,
)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Number(NodeKind):
    name = "number"
    behaviour = "gather"
    keys = GATHER_KEYS | {"min", "max", "max_digits", "finish_key"}

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        name = raw.get("name")
        transitions = gather_transitions(raw, path, following, ctx, name)
        low, high = raw.get("min", 0), raw.get("max")
        if not _int(low) or low < 0:
            ctx.problem(f"{path}.min", f"expected a whole number >= 0, got {low!r}", name)
            low = 0
        if not _int(high):
            ctx.problem(f"{path}.max", f"expected a whole number, got {high!r}", name)
            high = low
        if high < low:
            ctx.problem(f"{path}.max", f"max {high} is below min {low}", name)
        max_digits = raw.get("max_digits", len(str(high)))
        if not _int(max_digits) or not 1 <= max_digits <= 15:
            ctx.problem(f"{path}.max_digits", f"expected 1 to 15, got {max_digits!r}", name)
            max_digits = len(str(high))
        elif max_digits < len(str(high)):
            ctx.problem(f"{path}.max_digits", f"{max_digits} digits cannot reach max {high}",
                        name)
        finish_key = raw.get("finish_key", ctx.settings.finish_key)
        if finish_key != "":
            finish_key = ctx.key(finish_key, f"{path}.finish_key", name) or "#"
            if finish_key.isdigit():
                ctx.problem(f"{path}.finish_key", "a digit cannot end a number", name)
        props = {"min": low, "max": high, "max_digits": max_digits, "finish_key": finish_key,
                 **gather_overrides(raw, path, ctx, name)}
        return props, transitions

    def gather_spec(self, state: State, settings: Settings) -> GatherSpec:
        return GatherSpec(state.props["max_digits"], state.props["finish_key"],
                          state.props.get("timeout_s", settings.timeout_s))

    def interpret(self, state: State, digits: str) -> Interpretation | None:
        if not digits.isdigit():  # isdigit() is also False for ""
            return None
        value = int(digits)
        if not state.props["min"] <= value <= state.props["max"]:
            return None
        return Interpretation(str(value), "keypress")

    def keys_used(self, state: State) -> list[str]:
        return list("0123456789")


KIND = Number()
