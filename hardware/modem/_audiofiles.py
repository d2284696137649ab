"""Facts about the audio files a module plays, read from their bytes. Pure.

- How long a WAV or AMR-NB file plays: the box waits for the module's end-of-play report that
  long (plus a guard), and the simulator plays it that long.
- Quectel's upload checksum (``+QFUPL: <size>,<checksum>``): a 16-bit XOR of the data taken
  as big-endian words, an odd last byte as the high byte (Quectel FILE AT manuals, AT+QFUPL
  note 2; the same sum as fwupd's Quectel DFOTA updater), printed in hex.
"""

from __future__ import annotations

import struct

AMR_MAGIC = b"#!AMR\n"
# AMR-NB frame sizes in bytes by frame type, header byte included (RFC 4867 s.5.3: speech
# modes 4.75 ... 12.2 kbit/s, then SID; 15 is NO_DATA).
_AMR_FRAME = {0: 13, 1: 14, 2: 16, 3: 18, 4: 20, 5: 21, 6: 27, 7: 32, 8: 6, 15: 1}
AMR_FRAME_S = 0.02


def seconds(data: bytes) -> float | None:
    """How long the file plays; None when it is neither a WAV nor an AMR-NB file."""
    if data.startswith(AMR_MAGIC):
        return _amr_seconds(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _wav_seconds(data)
    return None


def _amr_seconds(data: bytes) -> float:
    pos, frames = len(AMR_MAGIC), 0
    while pos < len(data):
        size = _AMR_FRAME.get((data[pos] >> 3) & 0x0F, 1)
        pos += size
        frames += 1
    return frames * AMR_FRAME_S


def amr_whole(data: bytes) -> bool:
    """Whether ``data`` is an AMR-NB file whose frames end exactly where it ends: a read-back
    with bytes missing, added (a report that slipped into the data) or shifted almost never
    is."""
    if not data.startswith(AMR_MAGIC):
        return False
    pos = len(AMR_MAGIC)
    while pos < len(data):
        frame_type = (data[pos] >> 3) & 0x0F
        if frame_type not in _AMR_FRAME or data[pos] & 0x83:  # padding bits are zero
            return False
        pos += _AMR_FRAME[frame_type]
    return pos == len(data)


def _wav_seconds(data: bytes) -> float | None:
    pos, rate_bytes, frames = 12, None, None
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if chunk == b"fmt " and size >= 16:
            _tag, _channels, _rate, byte_rate = struct.unpack("<HHII", data[pos + 8:pos + 20])
            rate_bytes = byte_rate
        elif chunk == b"data":
            frames = min(size, len(data) - pos - 8)
        pos += 8 + size + (size & 1)
    if not rate_bytes or frames is None:
        return None
    return frames / rate_bytes


def quectel_checksum(data: bytes) -> int:
    checksum = 0
    for i in range(0, len(data), 2):
        word = data[i] << 8
        if i + 1 < len(data):
            word |= data[i + 1]
        checksum ^= word
    return checksum
