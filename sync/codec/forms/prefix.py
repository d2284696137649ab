"""``["p", col, sub]``: strings that are a prefix of column col's value, as their lengths
(a call id from the id of one of its answers)."""

from __future__ import annotations

from typing import Any

from ._form import ApplyContext, DecodeContext, Encoding, Form, Search, register


class PrefixForm(Form):
    tag = "p"
    nested = (2,)

    def encode(self, values: list[str], name: str, ref: list[str], search: Search
               ) -> Encoding | None:
        if not all(r.startswith(v) for v, r in zip(values, ref, strict=True)):
            return None
        return ["p", name, search.ints([len(v) for v in values])]

    def apply_strings(self, plan: Encoding, values: list[str], ctx: ApplyContext
                      ) -> Encoding | None:
        ref = ctx.strings.get(plan[1])
        return None if ref is None else self.encode(values, plan[1], ref, ctx.search)

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        return [r[:k] for r, k in zip(ctx.values[enc[1]], ctx.decode(enc[2], n), strict=True)]


PREFIX = register(PrefixForm())
