"""Prompts in the line's audio format: 8 kHz mono 16-bit signed linear PCM (little-endian).

Audio stays 16-bit linear until the call encodes it to its G.711 codec: pyVoIP's own format
(8-bit unsigned) was a second, coarser quantisation before G.711's (a -30 dBFS test prompt
arrived at 17 dB SNR instead of 36). WAV files of any rate, width and channel count (PCM,
mu-law or A-law) are converted once and cached under the line's data directory; rates other
than 8 kHz go through ``_resample`` (sox, with an anti-alias filter). Text-only prompts are
spoken by espeak-ng when it is installed. The conversion is a pure function of the file's
bytes; the cache is keyed by path, size, modification time and resampler, so an edited
recording (or a newly installed sox) gives a new conversion.
"""

from __future__ import annotations

import audioop
import collections
import hashlib
import io
import logging
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import wave
from collections.abc import Callable
from pathlib import Path

from ._resample import RATE, RatecvResampler, Resampler, default_resampler

log = logging.getLogger(__name__)

_FORMAT_VERSION = "s16-8k-v2"


class PromptUnavailable(Exception):
    """A prompt cannot be turned into audio; the message says what to do about it."""


def _wav_chunks(data: bytes) -> tuple[int, int, int, int, bytes]:
    """(format tag, channels, rate, bits, frames) from a RIFF/WAVE file; wave.open refuses
    the mu-law/A-law files telephony tools write."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise PromptUnavailable("not a WAV file (no RIFF/WAVE header)")
    pos, fmt, frames = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", body[:16])
        elif cid == b"data":
            frames = body
        pos += 8 + size + (size & 1)
    if fmt is None or frames is None:
        raise PromptUnavailable("WAV file without fmt or data chunk")
    tag, channels, rate, _, _, bits = fmt
    return tag, channels, rate, bits, frames


def to_line_format(wav_bytes: bytes,
                   resample: Callable[[bytes, int], bytes] | None = None) -> bytes:
    """Any PCM/mu-law/A-law WAV -> 8 kHz mono 16-bit signed linear."""
    tag, channels, rate, bits, frames = _wav_chunks(wav_bytes)
    if tag == 0xFFFE and bits in (8, 16, 24, 32):  # WAVE_FORMAT_EXTENSIBLE, assume PCM
        tag = 1
    if tag == 1:
        width = bits // 8
        if width == 1:  # 8-bit WAV is unsigned; audioop works on signed
            frames = audioop.bias(frames, 1, -128)
    elif tag in (6, 7):  # A-law, mu-law
        frames = (audioop.alaw2lin if tag == 6 else audioop.ulaw2lin)(frames, 2)
        width = 2
    else:
        raise PromptUnavailable(f"WAV encoding {tag} not supported (use PCM, mu-law or A-law)")
    if width not in (1, 2, 3, 4) or channels < 1:
        raise PromptUnavailable(f"WAV with {bits}-bit samples not supported")
    if not 1000 <= rate <= 384000:
        raise PromptUnavailable(f"WAV sample rate {rate} Hz not supported")
    frames = frames[: len(frames) - len(frames) % (width * channels)]
    if channels > 2:  # keep the first channel
        step = width * channels
        frames = b"".join(frames[i : i + width] for i in range(0, len(frames), step))
    if width != 2:
        frames = audioop.lin2lin(frames, width, 2)
    if channels == 2:
        frames = audioop.tomono(frames, 2, 0.5, 0.5)
    if rate != RATE:
        frames = (resample or default_resampler())(frames, rate)
    return frames


def wav_from_line(audio: bytes) -> bytes:
    """Wrap line-format audio in a WAV file (for tests and debugging)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(audio)
    return out.getvalue()


def encode_g711(pcm16: bytes, codec: str) -> bytes:
    """16-bit linear -> PCMU or PCMA: the one lossy step between a recording and the wire."""
    return audioop.lin2alaw(pcm16, 2) if codec == "PCMA" else audioop.lin2ulaw(pcm16, 2)


class G711Cache:
    """The G.711 of the prompts in use, per codec, so calls playing the same prompt share one
    copy (100 calls each holding their own encoding of a long prompt cost 48 MB in the
    capacity bench). Keyed by the identity of the cached 16-bit audio, which it keeps alive."""

    def __init__(self, items: int = 128) -> None:
        self._items: collections.OrderedDict[tuple[int, str], tuple[bytes, bytes]] = (
            collections.OrderedDict())
        self._max = items
        self._lock = threading.Lock()

    def encode(self, pcm16: bytes, codec: str) -> bytes:
        key = (id(pcm16), codec)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] is pcm16:
                self._items.move_to_end(key)
                return hit[1]
        g711 = encode_g711(pcm16, codec)
        with self._lock:
            self._items[key] = (pcm16, g711)
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return g711


class PromptCache:
    """Converted prompts on disk (``<data_dir>/sip-prompts``) and the last few in memory."""

    def __init__(self, data_dir: Path, espeak: str | None = None, memory_items: int = 64,
                 resampler: Resampler | None = None) -> None:
        self.dir = Path(data_dir) / "sip-prompts"
        self.espeak = espeak if espeak is not None else (shutil.which("espeak-ng") or "")
        self.resampler = resampler or default_resampler()
        self._warned_ratecv = False
        self._memory: dict[str, bytes] = {}
        self._memory_items = memory_items
        self._lock = threading.Lock()
        self._making: dict[str, threading.Lock] = {}

    def _remember(self, key: str, audio: bytes) -> bytes:
        with self._lock:
            if len(self._memory) >= self._memory_items:
                self._memory.pop(next(iter(self._memory)))
            self._memory[key] = audio
        return audio

    def _cached(self, key: str, make: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._memory:
                return self._memory[key]
            # One thread renders a prompt; the others (concurrent calls) wait for its result.
            making = self._making.setdefault(key, threading.Lock())
        with making:
            with self._lock:
                if key in self._memory:
                    return self._memory[key]
            return self._load_or_make(key, make)

    def _load_or_make(self, key: str, make: Callable[[], bytes]) -> bytes:
        path = self.dir / f"{key}.s16"
        if path.is_file():
            return self._remember(key, path.read_bytes())
        audio = make()
        self.dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(audio)
        os.replace(tmp, path)
        return self._remember(key, audio)

    def _resample(self, pcm16: bytes, rate: int) -> bytes:
        if isinstance(self.resampler, RatecvResampler) and not self._warned_ratecv:
            self._warned_ratecv = True
            log.warning("sox is not installed: prompts not recorded at 8 kHz are converted "
                        "without an anti-alias filter (duller, noisier); apt-get install sox")
        return self.resampler(pcm16, rate)

    def _convert(self, wav_bytes: bytes) -> bytes:
        return to_line_format(wav_bytes, self._resample)

    def wav(self, path: Path) -> bytes:
        st = path.stat()
        ident = (f"{_FORMAT_VERSION}|{self.resampler.name}|wav|{path.resolve()}|{st.st_size}|"
                 f"{st.st_mtime_ns}")
        key = hashlib.sha256(ident.encode()).hexdigest()[:32]
        return self._cached(key, lambda: self._convert(path.read_bytes()))

    def speech(self, text: str, language: str) -> bytes:
        if not self.espeak:
            raise PromptUnavailable(
                "espeak-ng is not installed, so text-only prompts cannot be spoken: install "
                "espeak-ng (apt-get install espeak-ng) or give the prompt a recording"
            )
        ident = f"{_FORMAT_VERSION}|{self.resampler.name}|tts|{self.espeak}|{language}|{text}"
        key = hashlib.sha256(ident.encode()).hexdigest()[:32]
        return self._cached(key, lambda: self._convert(self._speak(text, language)))

    def _speak(self, text: str, language: str) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "tts.wav"
            for voice in ([language] if language else []) + [None]:
                cmd = [self.espeak, "-w", str(out), *(["-v", voice] if voice else []), "--", text]
                done = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
                if done.returncode == 0 and out.is_file() and out.stat().st_size > 44:
                    return out.read_bytes()
                log.info("espeak-ng voice %r failed (%s), trying the default", voice,
                         done.stderr.decode(errors="replace").strip()[:120])
        raise PromptUnavailable(f"espeak-ng could not speak a {language!r} prompt")
