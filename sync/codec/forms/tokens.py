"""``["k", [sub, ...]]``: strings of one shape of digit and non-digit runs, as one column
per run (``box-1.ab.17`` -> ``box-``, 1, ``.ab.``, 17: the numbers become deltas)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ._form import ApplyContext, DecodeContext, Encoding, Form, Search, register
from .constant import CONSTANT

_TOKENS = re.compile(r"\d+|\D+")


def _text(column: list[str]) -> Encoding:
    return CONSTANT.encode(column) or ["j", column]


class TokensForm(Form):
    tag = "k"

    def map_nested(self, enc: Encoding, fn: Callable[[Encoding], Any]) -> Encoding:
        return ["k", [fn(sub) for sub in enc[1]]]

    def encode(self, values: list[str], search: Search) -> Encoding | None:
        tokenised = [_TOKENS.findall(v) for v in values]
        shape = [t[0].isdigit() for t in tokenised[0]]
        if not all(len(t) == len(shape)
                   and all(tok.isdigit() == d for tok, d in zip(t, shape, strict=True))
                   for t in tokenised):
            return None
        runs = [[t[i] for t in tokenised] for i in range(len(shape))]
        # Only canonical numbers ("7", not "007") survive the round trip through int; a digit
        # run that never changes (a hex epoch's "062") stays text.
        if not all(not digits or len(set(run)) == 1 or all(tok == str(int(tok)) for tok in run)
                   for digits, run in zip(shape, runs, strict=True)):
            return None
        return ["k", [search.ints([int(tok) for tok in run]) if digits and len(set(run)) > 1
                      else _text(run)
                      for digits, run in zip(shape, runs, strict=True)]]

    def apply_strings(self, plan: Encoding, values: list[str], ctx: ApplyContext
                      ) -> Encoding | None:
        tokenised = [_TOKENS.findall(v) for v in values]
        subs_plan = plan[1]
        if any(len(t) != len(subs_plan) for t in tokenised):
            return None
        subs = []
        for i, sub in enumerate(subs_plan):
            run = [t[i] for t in tokenised]
            if sub[0] == "c" and isinstance(sub[1], str):
                if any(tok != sub[1] for tok in run):
                    return None
                subs.append(sub)
            elif sub[0] == "j":
                if any(tok.isdigit() != run[0].isdigit() for tok in run):
                    return None
                subs.append(_text(run))
            else:
                if not all(tok.isdigit() and tok == str(int(tok)) for tok in run):
                    return None
                applied = ctx.alone().apply_ints(sub, [int(tok) for tok in run])
                if applied is None:
                    return None
                subs.append(applied)
        return ["k", subs]

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        parts = [[str(v) for v in ctx.decode(sub, n)] for sub in enc[1]]
        return ["".join(row) for row in zip(*parts, strict=True)] if parts else [""] * n


TOKENS = register(TokensForm())
