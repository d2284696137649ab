"""``["f", d, sub]``: floats with at most d decimals as ints scaled by 10**d (``sub``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .._numbers import Scaled
from .._record import CodecError
from ._form import ApplyContext, Column, DecodeContext, Encoding, Form, register

MAX_DECIMALS = 18  # well past what a float carries (about 16 significant digits)


class DecimalForm(Form):
    tag = "f"
    nested = (2,)

    def wrap(self, scale: int, sub: Encoding) -> Encoding:
        return ["f", scale, sub]

    def apply_column(self, plan: Encoding, column: Column, ctx: ApplyContext) -> Encoding | None:
        if column.numbers is None or column.numbers[0] != "float":
            return None
        num = column.numbers[1]
        if plan[1] != num.scale:
            return None
        sub = replace(ctx, scale=num.scale).apply_ints(plan[2], num.ints)
        return None if sub is None else ["f", plan[1], sub]

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        _check_scale(enc[1])
        return [i / 10 ** enc[1] for i in ctx.decode(enc[2], n, enc[1])]

    def decode_column(self, name: str, enc: Encoding, ctx: DecodeContext) -> list[Any]:
        scale = enc[1]
        _check_scale(scale)
        ints = ctx.decode(enc[2], ctx.n, scale)
        ctx.numerics[name] = Scaled(ints, scale)
        return [i / 10**scale for i in ints]


def _check_scale(scale: Any) -> None:
    # 10 ** scale of a hostile scale (10 ** 10**9) would take the receiver's CPU for hours.
    if type(scale) is not int or not 0 <= scale <= MAX_DECIMALS:
        raise CodecError(f"decimals {scale!r} outside 0..{MAX_DECIMALS}")


DECIMALS = register(DecimalForm())
