"""``["r", col, sub]``: ints minus column col's ints (rescaled to this column's decimals),
e.g. a monotonic reading against a UTC stamp taken with it: constant within a boot."""

from __future__ import annotations

from typing import Any

from .._numbers import Scaled
from ._form import ApplyContext, DecodeContext, Encoding, Form, Search, register


def _residual(ints: list[int], scale: int, ref: Scaled) -> list[int]:
    factor = 10 ** (scale - ref.scale)
    return [v - r * factor for v, r in zip(ints, ref.ints, strict=True)]


class ResidualForm(Form):
    tag = "r"
    nested = (2,)

    def candidates(self, num: Scaled, known: dict[str, Scaled], search: Search
                   ) -> list[Encoding]:
        """One per column that can be taken off (not finer than this one)."""
        return [["r", name, search.ints(_residual(num.ints, num.scale, ref))]
                for name, ref in known.items()
                if ref.scale <= num.scale and len(ref.ints) == len(num.ints)]

    def apply_ints(self, plan: Encoding, ints: list[int], ctx: ApplyContext) -> Encoding | None:
        ref = ctx.numerics.get(plan[1])
        if ref is None or ref.scale > ctx.scale or len(ref.ints) != len(ints):
            return None
        sub = ctx.apply_ints(plan[2], _residual(ints, ctx.scale, ref))
        return None if sub is None else ["r", plan[1], sub]

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        ref = ctx.reference(enc[1])
        factor = 10 ** (scale - ref.scale)
        return [v + r * factor for v, r in zip(ctx.decode(enc[2], n), ref.ints, strict=True)]


RESIDUAL = register(ResidualForm())
