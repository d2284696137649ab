"""LEB128 varints, the binary part's only integer layout."""

from __future__ import annotations

from ._record import CodecError

# Far beyond any value a box writes; a longer run of continuation bytes is a hostile batch
# (one varint of a million bytes would build a million-byte int, quadratically).
_MAX_SHIFT = 7 * 160


def unsigned_varints(ints: list[int]) -> bytes:
    """Plain LEB128 (no zigzag) for columns without negatives: 2000..9000 fits 2 bytes,
    where its zigzag (4000..18000) often needs 3."""
    if not ints or max(ints) < 0x80:
        return bytes(ints)
    out = bytearray()
    for u in ints:
        if u < 0x80:
            out.append(u)
        elif u < 0x4000:
            out += bytes(((u & 0x7F) | 0x80, u >> 7))
        else:
            while u >= 0x80:
                out.append((u & 0x7F) | 0x80)
                u >>= 7
            out.append(u)
    return bytes(out)


def zigzag_varints(ints: list[int]) -> bytes:
    """Signed ints as LEB128 of their zigzag (0, -1, 1, -2 ... -> 0, 1, 2, 3 ...)."""
    return unsigned_varints([v * 2 if v >= 0 else -v * 2 - 1 for v in ints])


def read_unsigned(blob: bytes, offset: int, n: int) -> list[int]:
    chunk = blob[offset:offset + n]
    if len(chunk) == n and (not chunk or max(chunk) < 0x80):
        return list(chunk)  # all one-byte values
    out = []
    pos = offset
    for _ in range(n):
        u = shift = 0
        while True:
            byte = blob[pos]
            pos += 1
            u |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
            if shift >= _MAX_SHIFT:
                raise CodecError("varint longer than 1,120 bits")
        out.append(u)
    return out


def read_zigzag(blob: bytes, offset: int, n: int) -> list[int]:
    return [u >> 1 if not u & 1 else -(u >> 1) - 1 for u in read_unsigned(blob, offset, n)]
