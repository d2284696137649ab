"""``["d", sub]``: ints as the first value then the differences between neighbours (a
counter or a clock becomes a constant or small numbers)."""

from __future__ import annotations

from itertools import accumulate, pairwise
from typing import Any

from ._form import ApplyContext, DecodeContext, Encoding, Form, Search, register


def differences(ints: list[int]) -> list[int]:
    return [ints[0]] + [b - a for a, b in pairwise(ints)]


class DeltaForm(Form):
    tag = "d"
    nested = (1,)

    def encode(self, ints: list[int], search: Search, depth: int) -> Encoding:
        return ["d", search.ints(differences(ints), depth + 1)]

    def apply_ints(self, plan: Encoding, ints: list[int], ctx: ApplyContext) -> Encoding | None:
        sub = ctx.apply_ints(plan[1], differences(ints))
        return None if sub is None else ["d", sub]

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        return list(accumulate(ctx.decode(enc[1], n)))


DELTAS = register(DeltaForm())
