"""Rate conversion of prompts to 8 kHz: sox when installed, audioop's ratecv otherwise.

audioop.ratecv interpolates without an anti-alias filter, so everything a 44.1 kHz recording
holds above 4 kHz folds back into the telephone band (about 7 dB of SNR lost on a speech
prompt). sox's ``rate`` effect is a proper band-limited resampler (linear phase, delay
compensated, stop band well below what G.711 can carry). sox is a Debian package (``apt-get
install sox``), needs no numpy, and runs once per prompt (the result is cached); ``edgecall
doctor`` warns when it is missing, and prompts are then converted with ratecv.
"""

from __future__ import annotations

import audioop
import shutil
import subprocess
from typing import Protocol

RATE = 8000


class Resampler(Protocol):
    name: str

    def __call__(self, pcm16: bytes, rate: int) -> bytes:
        """Mono 16-bit little-endian PCM at ``rate`` -> the same at 8 kHz."""
        ...


class SoxResampler:
    name = "sox-v"

    def __init__(self, sox: str) -> None:
        self.sox = sox

    def __call__(self, pcm16: bytes, rate: int) -> bytes:
        raw = ["-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1", "-L"]
        # -v: very high quality; -D: no dither (G.711's own steps are far coarser than
        # 16-bit dither, and the cached result stays the same run after run).
        cmd = [self.sox, "-q", "-D", *raw, "-r", str(rate), "-", *raw, "-r", str(RATE), "-",
               "rate", "-v"]
        done = subprocess.run(cmd, input=pcm16, capture_output=True, timeout=120, check=False)
        if done.returncode != 0:
            raise OSError(f"sox failed: {done.stderr.decode(errors='replace').strip()[:200]}")
        return done.stdout


class RatecvResampler:
    """The fallback without sox: no anti-alias filter (see the module docstring)."""

    name = "ratecv"

    def __call__(self, pcm16: bytes, rate: int) -> bytes:
        return audioop.ratecv(pcm16, 2, 1, rate, RATE, None)[0]


def sox_path() -> str | None:
    return shutil.which("sox")


def default_resampler() -> Resampler:
    sox = sox_path()
    return SoxResampler(sox) if sox else RatecvResampler()
