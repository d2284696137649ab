"""``["h", prefix, offset, n, size]``: strings prefix + lowercase hex of ``size`` bytes, the
bytes at ``offset`` of the binary part. Pseudonyms (``p:`` + 20 hex) travel as 10 bytes, not
20 characters the compressor cannot pack to 4 bits each.

While encoding, ``["h", prefix, bytes, size]``.
"""

from __future__ import annotations

import re
from typing import Any

from .._record import CodecError
from ._form import ApplyContext, BinaryPart, DecodeContext, Encoding, Form, register

_HEX_TAIL = re.compile(r"[0-9a-f]*\Z")


class HexBytesForm(Form):
    tag = "h"

    def encode(self, values: list[str]) -> Encoding | None:
        """The first value's hex tail (whole bytes, at least 4) tells prefix and size."""
        first = values[0]
        match = _HEX_TAIL.search(first)
        tail = len(match.group()) // 2 * 2 if match else 0
        if tail < 8:
            return None
        return self.with_prefix(values, first[:len(first) - tail], tail // 2)

    def with_prefix(self, values: list[str], prefix: str, size: int) -> Encoding | None:
        start, width = len(prefix), len(prefix) + 2 * size
        if not all(len(v) == width and v.startswith(prefix) for v in values):
            return None
        digits = "".join([v[start:] for v in values])
        if not _HEX_TAIL.fullmatch(digits):  # bytes.fromhex would also take A-F and spaces
            return None
        return ["h", prefix, bytes.fromhex(digits), size]

    def place(self, enc: Encoding, binary: BinaryPart) -> Encoding:
        return ["h", enc[1], binary.add(enc[2]), len(enc[2]) // enc[3], enc[3]]

    def skeleton(self, enc: Encoding) -> Encoding:
        return ["h", enc[1], b"", enc[3]]

    def binary_data(self, enc: Encoding) -> bytes:
        data: bytes = enc[2]
        return data

    def apply_strings(self, plan: Encoding, values: list[str], ctx: ApplyContext
                      ) -> Encoding | None:
        return self.with_prefix(values, plan[1], plan[3])

    def decode(self, enc: Encoding, ctx: DecodeContext, n: int, scale: int) -> list[Any]:
        prefix, off, count, size = enc[1], enc[2], enc[3], enc[4]
        if count != n or size < 1:
            raise CodecError("column length differs from the group's")
        digits = ctx.blob[off:off + n * size].hex()
        if len(digits) != 2 * n * size:
            raise CodecError("hex column runs past the binary part")
        step = 2 * size
        return [prefix + digits[i:i + step] for i in range(0, len(digits), step)]


HEX_BYTES = register(HexBytesForm())
