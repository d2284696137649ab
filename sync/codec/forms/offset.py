"""``["b", base, sub]``: ints as base + sub, base the smallest (a large number that varies
little, e.g. monotonic milliseconds: the offsets need fewer varint bytes)."""

from __future__ import annotations

from typing import Any

from ._form import ApplyContext, DecodeContext, Encoding, Form, register


class OffsetForm(Form):
    tag = "b"
    nested = (2,)

    def encode(self, ints: list[int]) -> Encoding | None:
        low = min(ints)
        if not low or max(ints) - low >= 1 << 31:
            return None  # no base to take off, or offsets as large as the values
        return ["b", low, ["v", [v - low for v in ints]]]

    def apply_ints(self, plan: Encoding, ints: list[int], ctx: ApplyContext) -> Encoding | None:
        low = min(ints)
        return ["b", low, ["v", [v - low for v in ints]]]

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        return [enc[1] + v for v in ctx.decode(enc[2], n)]


OFFSET = register(OffsetForm())
