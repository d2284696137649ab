"""``["T"]``: (``@t`` only) the record's created time from the batch's time column: the
header's ``"t"`` holds every record's time in seq order, so that a stamp costs its gap from
the record before it, whatever group that one is in."""

from __future__ import annotations

from typing import Any

from .._numbers import Scaled
from .._record import CodecError
from .._time import ms_iso
from ._form import DecodeContext, Encoding, Form, register


class BatchTimeForm(Form):
    tag = "T"
    nestable = False

    def encode(self) -> Encoding:
        return ["T"]

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        raise CodecError("unknown column form 'T'")  # a whole column only

    def decode_column(self, name: str, enc: Encoding, ctx: DecodeContext) -> list[Any]:
        if ctx.times is None or "@seq" not in ctx.values:
            raise CodecError("batch time column missing")
        ints = [ctx.times[s] for s in ctx.values["@seq"]]
        ctx.numerics[name] = Scaled(ints, 3)
        return [ms_iso(i) for i in ints]


BATCH_TIME = register(BatchTimeForm())
