"""``["t", sub]``: ``YYYY-MM-DDTHH:MM:SS.mmmZ`` stamps as epoch milliseconds (``sub``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .._numbers import Scaled
from .._time import ms_iso
from ._form import ApplyContext, Column, DecodeContext, Encoding, Form, register


class StampForm(Form):
    tag = "t"
    nested = (1,)

    def wrap(self, sub: Encoding) -> Encoding:
        return ["t", sub]

    def apply_column(self, plan: Encoding, column: Column, ctx: ApplyContext) -> Encoding | None:
        if column.numbers is None or column.numbers[0] != "stamp":
            return None
        sub = replace(ctx, scale=3).apply_ints(plan[1], column.numbers[1].ints)
        return None if sub is None else ["t", sub]

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        # Nested: the exceptions of a column of earlier versions.
        return [ms_iso(i) for i in ctx.decode(enc[1], n, 3)]

    def decode_column(self, name: str, enc: Encoding, ctx: DecodeContext) -> list[Any]:
        ints = ctx.decode(enc[1], ctx.n, 3)
        ctx.numerics[name] = Scaled(ints, 3)
        return [ms_iso(i) for i in ints]


STAMPS = register(StampForm())
