"""``["c", v]``: every row has v."""

from __future__ import annotations

from typing import Any

from ._form import ApplyContext, Column, DecodeContext, Encoding, Form, register


class ConstantForm(Form):
    tag = "c"

    def encode(self, values: list[Any]) -> Encoding | None:
        first = values[0]
        # count() (C speed) rules most columns out; 1 == 1.0 == True, hence the type check.
        if values.count(first) != len(values) or len(set(map(type, values))) != 1:
            return None
        if type(first) is float and len(set(map(repr, values))) != 1:
            return None  # 0.0 and -0.0
        return ["c", first]

    def apply_column(self, plan: Encoding, column: Column, ctx: ApplyContext) -> Encoding | None:
        return None  # a column that is still constant was caught before any plan

    def apply_ints(self, plan: Encoding, ints: list[int], ctx: ApplyContext) -> Encoding | None:
        return ctx.search.ints(ints)  # part of a number: searched again, ints are cheap to

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        return [enc[1]] * n


CONSTANT = register(ConstantForm())
