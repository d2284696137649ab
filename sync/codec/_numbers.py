"""Columns of numbers as ints: what lets a column be a difference from another.

An int column is its values; a float column with few decimals is its values times 10**scale;
a stamp column is epoch milliseconds (scale 3, so that it lines up with a monotonic reading
in seconds with 3 decimals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from ._time import iso_ms, ms_iso

NumberKind = Literal["int", "float", "stamp"]


@dataclass
class Scaled:
    """Numbers as ints: each value is ``ints[i] / 10**scale``."""

    ints: list[int]
    scale: int


def only(values: list[Any], kind: type) -> bool:
    """Every value is of exactly this type (not a subclass: True is no int here)."""
    return set(map(type, values)) == {kind}


def same(a: Any, b: Any) -> bool:
    """Equal and spelt the same in JSON (0.0 == -0.0 and 1 == 1.0 == True are not)."""
    if type(a) is not type(b) or a != b:
        return False
    return type(a) is not float or repr(a) == repr(b)


def rescale(ints: list[int], scale: int, to: int) -> list[int]:
    """From ``scale`` decimals to ``to``: multiplied, or floor-divided when it has fewer."""
    if to >= scale:
        return [i * 10 ** (to - scale) for i in ints]
    return [i // 10 ** (scale - to) for i in ints]


def _decimals(value: float) -> int | None:
    text = repr(value)
    if "e" in text or "n" in text:  # exponent, nan, inf: leave as they are
        return None
    return len(text.split(".")[1]) if "." in text else 0


def as_numbers(values: list[Any]) -> tuple[NumberKind, Scaled] | None:
    """The column as scaled ints when every value comes back from them spelt the same."""
    first = values[0]
    if isinstance(first, bool) or first is None:
        return None
    if only(values, int):
        return "int", Scaled(values, 0)
    if only(values, float):
        return _floats(values)
    if only(values, str):
        if iso_ms(first) is None:  # most text columns are not stamps: one look tells
            return None
        ms = [iso_ms(v) for v in values]
        if any(m is None for m in ms):
            return None
        ints = [m for m in ms if m is not None]
        if any(ms_iso(i) != v for i, v in zip(ints, values, strict=True)):
            return None
        return "stamp", Scaled(ints, 3)
    return None


def _floats(values: list[float]) -> tuple[NumberKind, Scaled] | None:
    if 0.0 in values and any(v == 0 and math.copysign(1.0, v) < 0 for v in values):
        return None  # -0.0 would come back as 0.0
    # The decimals of the first rows usually are those of all: checked by the round trip
    # (as a list comparison, C speed); otherwise every value is looked at.
    head = [_decimals(v) for v in values[:64]]
    if any(d is None for d in head):
        return None
    scale = max(d for d in head if d is not None)
    factor = 10**scale
    try:
        ints = [round(v * factor) for v in values]
        fits = scale <= 9 and [i / factor for i in ints] == values
    except (OverflowError, ValueError):  # inf or nan after the first rows
        fits = False
    if not fits:
        decimals = [_decimals(v) for v in values]
        if any(d is None for d in decimals):
            return None
        scale = max(d for d in decimals if d is not None)
        if scale > 9:
            return None
        ints = [round(v * 10**scale) for v in values]
        if any(i / 10**scale != v for i, v in zip(ints, values, strict=True)):
            return None
    return "float", Scaled(ints, scale)
