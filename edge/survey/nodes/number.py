"""number: several digits, ended by the finish key, by ``max_digits`` keys, or by silence
after at least one digit (Twilio <Gather> semantics). Valid when ``min <= value <= max``.

Authoring::

    {"name": "household", "type": "number", "prompt": {...}, "min": 1, "max": 30}

``max_digits`` defaults to the number of digits of ``max``; ``finish_key`` to the survey's.
``decimals`` (default 0; XLSForm's decimal): the caller presses star for the decimal point
("12*5#" is 12.5), up to that many digits after it; input then ends on the finish key or
silence.
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


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Number(NodeKind):
    name = "number"
    behaviour = "gather"
    keys = GATHER_KEYS | {"min", "max", "max_digits", "finish_key", "decimals"}

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        name = raw.get("name")
        transitions = gather_transitions(raw, path, following, ctx, name)
        decimals = raw.get("decimals", 0)
        if not _int(decimals) or not 0 <= decimals <= 6:
            ctx.problem(f"{path}.decimals", f"expected 0 to 6, got {shown(decimals)}", name)
            decimals = 0
        whole = _int if not decimals else _real
        low, high = raw.get("min", 0), raw.get("max")
        if not whole(low) or low < 0:
            ctx.problem(f"{path}.min", f"expected a {'whole ' if not decimals else ''}number "
                        f">= 0, got {shown(low)}" if low is not None else "missing: the lowest "
                        "valid number", name)
            low = 0
        if not whole(high):
            ctx.problem(f"{path}.max", f"expected a {'whole ' if not decimals else ''}number, "
                        f"got {shown(high)}" if high is not None else "missing: the highest valid "
                        "number", name)
            high = low
        if high < low:
            ctx.problem(f"{path}.max", f"max {high} is below min {low}", name)
        width = len(str(int(high)))
        max_digits = raw.get("max_digits", width)
        if not _int(max_digits) or not 1 <= max_digits <= 15:
            ctx.problem(f"{path}.max_digits", f"expected 1 to 15, got {shown(max_digits)}", name)
            max_digits = width
        elif max_digits < width:
            ctx.problem(f"{path}.max_digits", f"{max_digits} digits cannot reach max {high}",
                        name)
        finish_key = raw.get("finish_key", ctx.settings.finish_key)
        if finish_key != "":
            finish_key = ctx.key(finish_key, f"{path}.finish_key", name) or "#"
            if finish_key.isdigit():
                ctx.problem(f"{path}.finish_key", "a digit cannot end a number", name)
        if decimals and finish_key == "*":
            ctx.problem(f"{path}.finish_key", "star is the decimal point here; end with #",
                        name)
        props = {"min": low, "max": high, "max_digits": max_digits, "finish_key": finish_key,
                 "decimals": decimals, **gather_overrides(raw, path, ctx, name)}
        return props, transitions

    def gather_spec(self, state: State, settings: Settings) -> GatherSpec:
        # With a decimal point the length varies: only the finish key or silence ends it.
        digits = 0 if state.props.get("decimals") else state.props["max_digits"]
        return GatherSpec(digits, state.props["finish_key"],
                          state.props.get("timeout_s", settings.timeout_s))

    def interpret(self, state: State, digits: str) -> Interpretation | None:
        decimals = state.props.get("decimals", 0)
        whole, point, fraction = digits.partition("*") if decimals else (digits, "", "")
        if not whole.isdigit() or (point and not fraction.isdigit()):
            return None  # isdigit() is also False for ""
        if len(fraction) > decimals or len(whole) > state.props["max_digits"]:
            return None
        value = float(f"{whole}.{fraction}") if point else int(whole)
        if not state.props["min"] <= value <= state.props["max"]:
            return None
        text = f"{int(whole)}.{fraction}" if point else str(int(whole))
        return Interpretation(text, "keypress")

    def keys_used(self, state: State) -> list[str]:
        return list("0123456789")


KIND = Number()
