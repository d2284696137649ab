"""Recordings in the module's own format, converted once with SoX and kept in the data dir.

Why SoX: Debian's ``sox`` (with ``libsox-fmt-base``, a dependency) reads every WAV the
surveys use (PCM, mu-law, A-law, float) and writes AMR-NB through libopencore-amrnb; Debian's
ffmpeg decodes AMR-NB but has no AMR-NB encoder (``ffmpeg -codecs``: ``D.AIL. amr_nb``, its
libopencore encoder needs the separate libavcodec-extra build). SoX is already what the box's
test machines install.

The cache is keyed by the source's SHA-256 and the target format, so an edited recording is
converted again, a renamed one is not, and a restart converts nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import _audiofiles

TOOL = "sox"
# Target formats: what each module plays (see _profiles and docs/modem.md).
FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    # AMR-NB at 4.75 kbit/s (mode 0, SoX's -C 0): the mode SIM800 writes itself ("AMR 4.75K is
    # supported only", AT+CRECORD), and the smallest file over a 115200-baud UART.
    "amr-nb-475": ("amr", ("-r", "8000", "-c", "1", "-t", "amr-nb", "-C", "0")),
    # WAV, 8 kHz mono 16-bit PCM: EC25 AT+QPSND and SIM7600 AT+CCMXPLAY play it as is.
    "wav-8k-s16": ("wav", ("-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
                           "-t", "wav")),
}


class ConversionFailed(Exception):
    """A recording could not be put in the module's format; the message says why."""


@dataclass(frozen=True)
class Converted:
    path: Path
    source_sha256: str
    sha256: str
    size: int
    seconds: float


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Converter:
    """Converts into ``cache_dir``; ``tool`` is the SoX binary (found on PATH by default)."""

    def __init__(self, cache_dir: Path, tool: str | None = None) -> None:
        self.cache_dir = cache_dir
        self.tool = tool or shutil.which(TOOL)

    def convert(self, source: Path, fmt: str, source_sha256: str | None = None) -> Converted:
        extension, args = FORMATS[fmt]
        digest = source_sha256 or file_sha256(source)
        target = self.cache_dir / f"{digest}.{fmt}.{extension}"
        if not target.is_file():
            self._run(source, target, args)
        data = target.read_bytes()
        played = _audiofiles.seconds(data)
        if played is None or played <= 0:
            target.unlink(missing_ok=True)
            raise ConversionFailed(f"{TOOL} wrote no playable {extension} file")
        return Converted(target, digest, hashlib.sha256(data).hexdigest(), len(data), played)

    def _run(self, source: Path, target: Path, args: tuple[str, ...]) -> None:
        if self.tool is None:
            raise ConversionFailed(f"{TOOL} is not installed (apt-get install sox)")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=target.suffix)
        os.close(fd)
        try:
            done = subprocess.run([self.tool, "-q", str(source), *args, tmp],
                                  capture_output=True, text=True, timeout=120, check=False)
            if done.returncode != 0:
                why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
                raise ConversionFailed(f"{TOOL}: {why[:200]}")
            os.replace(tmp, target)  # whole or not at all: a crash leaves no half file
        except (OSError, subprocess.SubprocessError) as exc:
            raise ConversionFailed(f"{TOOL} failed: {exc}") from exc
        finally:
            Path(tmp).unlink(missing_ok=True)
