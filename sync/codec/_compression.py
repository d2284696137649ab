"""The outer layer of a batch: xz, or gzip for receivers without lzma (Node)."""

from __future__ import annotations

import gzip
import lzma
import zlib

from ._record import CodecError

COMPRESSIONS = ("xz", "gzip")

_XZ_MAGIC = b"\xfd7zXZ\x00"
_GZIP_MAGIC = b"\x1f\x8b"
# Preset 9's 64 MiB dictionary would cost a Pi ~700 MiB per compression; a batch is well
# under 1 MiB of JSON, so a 1 MiB dictionary loses nothing.
# lc=1, pb=0: the binary part is varints with no 4-byte structure (measured: 2.5% smaller).
_XZ_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": 1 << 20,
                "lc": 1, "lp": 0, "pb": 0}]


def compress(data: bytes, compression: str) -> bytes:
    if compression == "xz":
        return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32,
                             filters=_XZ_FILTERS)
    if compression == "gzip":
        return gzip.compress(data, compresslevel=9, mtime=0)  # mtime 0: same bytes each time
    if compression == "none":
        return data
    raise ValueError(f"unknown compression {compression!r}")


def decompress(data: bytes, max_size: int = 64 * 1024 * 1024) -> bytes:
    """The payload, recognised by its magic; at most ``max_size`` bytes (a zip bomb stops)."""
    try:
        if data.startswith(_XZ_MAGIC):
            out = lzma.LZMADecompressor().decompress(data, max_length=max_size)
        elif data.startswith(_GZIP_MAGIC):
            out = zlib.decompressobj(wbits=31).decompress(data, max_size)
        else:
            raise CodecError("not an xz or gzip batch")
    except (lzma.LZMAError, zlib.error, EOFError) as exc:
        raise CodecError(f"cannot decompress: {exc}") from exc
    if len(out) >= max_size:
        raise CodecError("batch too large once decompressed")
    return out
