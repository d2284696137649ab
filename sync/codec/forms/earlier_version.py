"""``["m", col, mask, rest]``: a later version of records whose earlier version is in an
earlier group of the batch (a call's end after its start). mask 1: the value of column col
in that group's row with the same record id; 0: the next of ``rest`` (a column as long as
the zeros, referring to nothing)."""

from __future__ import annotations

from typing import Any

from .._numbers import same
from .._record import CodecError
from ._form import ApplyContext, Column, DecodeContext, Encoding, Form, Search, register
from ._join import Join


class EarlierVersionForm(Form):
    tag = "m"
    nested = (2, 3)

    def encode(self, values: list[Any], name: str, join: Join, search: Search
               ) -> Encoding | None:
        theirs = join.columns.get(name)
        if theirs is None:
            return None
        mask, rest = [], []
        for value, pos in zip(values, join.positions, strict=True):
            unchanged = pos >= 0 and same(theirs[pos], value)
            mask.append(1 if unchanged else 0)
            if not unchanged:
                rest.append(value)
        if len(rest) * 2 > len(values):
            return None  # mostly changed: the column's own form does better
        return ["m", name, search.ints(mask), search.plain(rest)]

    def apply_column(self, plan: Encoding, column: Column, ctx: ApplyContext) -> Encoding | None:
        if ctx.join is None:
            return None
        return self.encode(column.values, column.name, ctx.join, ctx.search)

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        if ctx.join is None:
            raise CodecError("joined column in a group without a join")
        theirs = ctx.join[enc[1]]
        mask = ctx.decode(enc[2], n)
        rest = iter(ctx.decode(enc[3], mask.count(0)))
        return [theirs[ctx.positions[i]] if m else next(rest) for i, m in enumerate(mask)]


EARLIER_VERSION = register(EarlierVersionForm())
