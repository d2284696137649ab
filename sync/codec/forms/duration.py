"""``["q", a, b, sub]``: ints minus (column a - column b), rescaled (floor division when the
columns have more decimals): a duration from an end and a start."""

from __future__ import annotations

from typing import Any

from .._numbers import Scaled, rescale
from .._record import CodecError
from ._form import ApplyContext, DecodeContext, Encoding, Form, Search, register


def _residual(ints: list[int], scale: int, a: Scaled, b: Scaled) -> list[int]:
    diff = rescale([x - y for x, y in zip(a.ints, b.ints, strict=True)], a.scale, scale)
    return [v - d for v, d in zip(ints, diff, strict=True)]


class DurationForm(Form):
    tag = "q"
    nested = (3,)

    def candidates(self, num: Scaled, known: dict[str, Scaled], search: Search
                   ) -> list[Encoding]:
        """One per ordered pair of float columns of one scale whose difference is within 1%
        of this column (trying every pair costs more than it finds otherwise)."""
        fine = [(k, r) for k, r in known.items() if r.scale > 0 and len(r.ints) == len(num.ints)]
        found = []
        for a, ra in fine:
            for b, rb in fine:
                if a == b or ra.scale != rb.scale:
                    continue
                residual = _residual(num.ints, num.scale, ra, rb)
                if max(map(abs, residual)) * 100 < max(map(abs, num.ints)) + 1:
                    found.append(["q", a, b, search.ints(residual)])
        return found

    def apply_ints(self, plan: Encoding, ints: list[int], ctx: ApplyContext) -> Encoding | None:
        a, b = ctx.numerics.get(plan[1]), ctx.numerics.get(plan[2])
        if a is None or b is None or a.scale != b.scale or len(a.ints) != len(ints):
            return None
        sub = ctx.apply_ints(plan[3], _residual(ints, ctx.scale, a, b))
        return None if sub is None else ["q", plan[1], plan[2], sub]

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        a, b = ctx.reference(enc[1]), ctx.reference(enc[2])
        if a.scale != b.scale:
            raise CodecError("difference of columns with different decimals")
        diff = rescale([x - y for x, y in zip(a.ints, b.ints, strict=True)], a.scale, scale)
        return [v + d for v, d in zip(ctx.decode(enc[3], n), diff, strict=True)]


DURATION = register(DurationForm())
