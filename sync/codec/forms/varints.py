"""``["v", offset, n]``: n ints as zigzag varints at ``offset`` of the binary part.

While encoding, ``["v", [ints]]`` holds any int list; placing it writes plain varints and
makes it a ``"u"`` when no value is negative (cheaper: see unsigned_varints).
"""

from __future__ import annotations

from typing import Any

from .._record import CodecError
from .._varints import read_zigzag, unsigned_varints, zigzag_varints
from ._form import ApplyContext, BinaryPart, DecodeContext, Encoding, Form, register


class VarintsForm(Form):
    tag = "v"

    def encode(self, ints: list[int]) -> Encoding:
        return ["v", ints]

    def place(self, enc: Encoding, binary: BinaryPart) -> Encoding:
        ints = enc[1]
        if ints and min(ints) >= 0:
            return ["u", binary.add(unsigned_varints(ints)), len(ints)]
        return ["v", binary.add(zigzag_varints(ints)), len(ints)]

    def skeleton(self, enc: Encoding) -> Encoding:
        return ["v", []]

    def binary_data(self, enc: Encoding) -> list[int]:
        ints: list[int] = enc[1]
        return ints

    def apply_ints(self, plan: Encoding, ints: list[int], ctx: ApplyContext) -> Encoding | None:
        return ["v", ints]

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        if enc[2] != n:
            raise CodecError("column length differs from the group's")
        return read_zigzag(ctx.blob, enc[1], n)


VARINTS = register(VarintsForm())
