"""``["s", col, sub]``: strings that start with column col's value, as the rest (an
answer's id is its call's id and the question)."""

from __future__ import annotations

from typing import Any

from ._form import ApplyContext, DecodeContext, Encoding, Form, Search, register


def _rest(values: list[str], ref: list[str]) -> list[str] | None:
    if not all(v.startswith(r) for v, r in zip(values, ref, strict=True)):
        return None
    return [v[len(r):] for v, r in zip(values, ref, strict=True)]


class SuffixForm(Form):
    tag = "s"
    nested = (2,)

    def encode(self, values: list[str], name: str, ref: list[str], search: Search
               ) -> Encoding | None:
        rest = _rest(values, ref)
        # The rest refers to nothing (depth 1): a chain of references buys too little.
        return None if rest is None else ["s", name, search.strings(rest, {}, 1)]

    def apply_strings(self, plan: Encoding, values: list[str], ctx: ApplyContext
                      ) -> Encoding | None:
        ref = ctx.strings.get(plan[1])
        return None if ref is None else self.encode(values, plan[1], ref, ctx.search)

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        return [r + v for r, v in zip(ctx.values[enc[1]], ctx.decode(enc[2], n), strict=True)]


SUFFIX = register(SuffixForm())
