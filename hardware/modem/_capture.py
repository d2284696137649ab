"""What the module recorded, as the lines' sound: decoded with SoX to 8 kHz 16-bit mono PCM,
then silence before the first word and after the last trimmed to the margins every line keeps.

Why SoX: it is already what the box converts prompts with (``_convert``), and Debian's
``libsox-fmt-base`` decodes AMR-NB through libopencore-amrnb (``sox -h`` lists ``amr-nb``).
Modules cannot tell silence from speech, so the judging is done here, after the fetch, by the
same measure and level as :class:`edge.lines.Recorder` (RMS over 20 ms frames): a message
measures the same on every line, and a recording with no word in it keeps no file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

# The recorder's own measure and margins, so a modem's message is trimmed as a SIP one is.
from edge.lines._recording import BYTES_PER_S, FRAME_BYTES, PREROLL_S, SILENCE_RMS, TAIL_S, rms

TOOL = "sox"


class DecodeFailed(Exception):
    """The module's file could not be turned into PCM; the message says why."""


def decode(data: bytes, extension: str, tool: str | None = None) -> bytes:
    """The module's file (``extension``: "amr" or "wav") as 8 kHz 16-bit little-endian mono
    PCM."""
    tool = tool or shutil.which(TOOL)
    if tool is None:
        raise DecodeFailed(f"{TOOL} is not installed (apt-get install sox)")
    kind = "amr-nb" if extension == "amr" else extension
    with tempfile.TemporaryDirectory(prefix="edgecall-rec-") as work:
        source, target = Path(work) / f"in.{extension}", Path(work) / "out.raw"
        source.write_bytes(data)
        try:
            done = subprocess.run(
                [tool, "-q", "-t", kind, str(source), "-r", "8000", "-c", "1", "-b", "16",
                 "-e", "signed-integer", "-L", "-t", "raw", str(target)],
                capture_output=True, text=True, timeout=120, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            raise DecodeFailed(f"{TOOL} failed: {exc}") from exc
        if done.returncode != 0 or not target.is_file():
            why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            raise DecodeFailed(f"{TOOL}: {why[:200]}")
        pcm = target.read_bytes()
    return pcm[: len(pcm) - len(pcm) % 2]


def trim(pcm: bytes, silence_rms: float = SILENCE_RMS) -> bytes | None:
    """``pcm`` from a little before its first word to a little after its last (the recorder's
    margins); None when no 20 ms frame is louder than the silence level."""
    frames = [pcm[i:i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]
    voiced = [n for n, frame in enumerate(frames) if rms(frame) >= silence_rms]
    if not voiced:
        return None
    start = max(0, voiced[0] * FRAME_BYTES - int(PREROLL_S * BYTES_PER_S))
    end = min(len(pcm), (voiced[-1] + 1) * FRAME_BYTES + int(TAIL_S * BYTES_PER_S))
    return pcm[start:end]


def seconds(pcm: bytes) -> float:
    return round(len(pcm) / BYTES_PER_S, 3)


def available(tool: str | None = None) -> bool:
    """Whether SoX is there and reads AMR-NB."""
    tool = tool or shutil.which(TOOL)
    if tool is None or not os.access(tool, os.X_OK):
        return False
    out = subprocess.run([tool, "-h"], capture_output=True, text=True, check=False).stdout
    return "amr-nb" in out
