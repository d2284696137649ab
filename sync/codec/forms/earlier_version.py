"""``["m", col, mask, rest]``: a later version of records whose earlier version is in an
earlier group of the batch (a call's end after its start). mask 1: the value of column col
in that group's row with the same record id; 0: the next of ``rest`` (a column as long as
the zeros, referring to nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._numbers import Scaled, same
from .._record import CodecError
from ._form import ApplyContext, Column, DecodeContext, Encoding, Form, Search, register


@dataclass
class Join:
    """Rows of an earlier group (same kind) holding an earlier version of a row's record."""

    columns: dict[str, list[Any]]
    numerics: dict[str, Scaled]  # the joined group's numeric references
    positions: list[int]  # per row of this group: the joined row, or -1

    @classmethod
    def by_id(cls, ids: list[str], columns: dict[str, list[Any]], numerics: dict[str, Scaled]
              ) -> Join:
        where = {rid: pos for pos, rid in enumerate(columns["@id"])}
        return cls(columns, numerics, [where.get(rid, -1) for rid in ids])

    def head(self, rows: int) -> Join:
        return Join(self.columns, self.numerics, self.positions[:rows])

    def references(self) -> dict[str, Scaled]:
        """The joined group's numbers as references ("^name") when every row has a match
        (an end-of-call record against its start: a duration instead of a date)."""
        if any(p < 0 for p in self.positions):
            return {}
        return {"^" + name: Scaled([num.ints[p] for p in self.positions], num.scale)
                for name, num in self.numerics.items()}


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
