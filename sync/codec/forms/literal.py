"""``["j", [v, ...]]``: the values as they are (JSON)."""

from __future__ import annotations

from typing import Any

from .._record import CodecError
from ._form import ApplyContext, Column, DecodeContext, Encoding, Form, register


class LiteralForm(Form):
    tag = "j"

    def encode(self, values: list[Any]) -> Encoding:
        return ["j", values]

    def skeleton(self, enc: Encoding) -> Encoding:
        return ["j", []]

    def apply_column(self, plan: Encoding, column: Column, ctx: ApplyContext) -> Encoding | None:
        if column.numbers is None and not column.strings:
            return ["j", column.values]  # mixed values: nothing else fits them anyway
        return super().apply_column(plan, column, ctx)

    def apply_ints(self, plan: Encoding, ints: list[int], ctx: ApplyContext) -> Encoding | None:
        return ["v", ints]  # (a list of no ints was kept as "j")

    def apply_strings(self, plan: Encoding, values: list[str], ctx: ApplyContext
                      ) -> Encoding | None:
        return ["j", values]

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        if len(enc[1]) != n:
            raise CodecError("column length differs from the group's")
        return list(enc[1])


LITERAL = register(LiteralForm())
