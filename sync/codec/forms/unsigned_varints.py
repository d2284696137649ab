"""``["u", offset, n]``: n ints >= 0 as plain varints at ``offset`` of the binary part.

Only placing makes one (from a ``"v"`` without negatives), so plans never hold it.
"""

from __future__ import annotations

from typing import Any

from .._record import CodecError
from .._varints import read_unsigned
from ._form import DecodeContext, Encoding, Form, register


class UnsignedVarintsForm(Form):
    tag = "u"

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        if enc[2] != n:
            raise CodecError("column length differs from the group's")
        return read_unsigned(ctx.blob, enc[1], n)


UNSIGNED_VARINTS = register(UnsignedVarintsForm())
