"""The outer layer: xz or gzip, recognised by magic, bounded once decompressed."""

from __future__ import annotations

import pytest

from sync.codec import COMPRESSIONS, CodecError, compress, decompress


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_round_trip_and_same_bytes_each_time(compression: str) -> None:
    data = b"\x00\x00\x00\x02{}" + bytes(range(256)) * 8
    packed = compress(data, compression)
    assert packed == compress(data, compression)  # gzip without a timestamp
    assert decompress(packed) == data


def test_unknown_compression_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown compression"):
        compress(b"x", "zstd")


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_a_bomb_stops_at_the_limit(compression: str) -> None:
    with pytest.raises(CodecError, match="too large"):
        decompress(compress(bytes(1 << 20), compression), max_size=1 << 16)


@pytest.mark.parametrize("data", [b"", b"plain", b"\xfd7zXZ\x00broken", b"\x1f\x8bbroken"])
def test_what_is_not_xz_or_gzip_is_a_codec_error(data: bytes) -> None:
    with pytest.raises(CodecError):
        decompress(data)
