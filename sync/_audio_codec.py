"""The recording's copy for the link to HQ: Ogg Opus at 8 kbit/s, tuned for speech, made once
per recording by ``opusenc`` (Debian: opus-tools) and kept beside the WAV
(``<state>.opus`` next to ``<state>.wav``; the store's sweep keeps it while the WAV's row
exists). Why Opus and not the modules' AMR, with the measured bytes per minute: docs/voice.md,
"Carrying the sound to HQ".

The copy is written the durable way (temporary name, fsync, rename, directory fsync) and is
never made again once it exists: an upload resumed after a kill or on another day sends the
same bytes under the same reference, whatever encoder is installed by then."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from edge.lines import commit_file, temp_path

ENCODER = "opusenc"
LINK_FORMAT = "ogg/opus/8000/1"  # container/codec/input rate/channels, like the WAV's
LINK_SUFFIX = ".opus"
# Speech at 8 kbit/s: the SILK mode Opus uses for narrowband speech. 60 ms frames: a third
# as many packets as 20 ms ones, 8 % fewer bytes (56 against 61 KB a minute, measured by
# bench/voice_sync.py); delay does not matter for a stored message. A fixed serial number:
# opusenc picks a random one otherwise, and the same recording would encode to other bytes.
OPUSENC_ARGS = ("--quiet", "--bitrate", "8", "--speech", "--framesize", "60",
                "--downmix-mono", "--serial", "1")
INSTALL_HINT = "apt-get install opus-tools"


class EncoderMissing(Exception):
    """No encoder on the box: recordings wait (nothing is lost) until it is installed."""


class EncodeFailed(Exception):
    """The encoder refused this recording (said in words)."""


@dataclass(frozen=True, slots=True)
class LinkCopy:
    path: Path
    size: int
    sha256: str
    format: str = LINK_FORMAT


def encoder_path() -> str | None:
    return shutil.which(ENCODER)


def encoder_problem() -> str | None:
    """None when the link copies can be made; else what to do, in words."""
    if encoder_path() is None:
        return (f"{ENCODER} is not installed: recordings wait on the box until it is "
                f"({INSTALL_HINT})")
    return None


def encoder_version() -> str:
    """The encoder's version as it reports it ("opus-tools 0.2 (using libopus 1.3.1)")."""
    path = encoder_path()
    if path is None:
        return ""
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    first = (done.stdout or done.stderr).strip().splitlines()[:1]
    return first[0].removeprefix(f"{ENCODER} ").strip() if first else ""


def link_copy_path(wav: Path) -> Path:
    return wav.with_suffix(LINK_SUFFIX)


def describe(path: Path) -> LinkCopy:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as source:
        while chunk := source.read(1 << 16):
            digest.update(chunk)
            size += len(chunk)
    return LinkCopy(path, size, digest.hexdigest())


def ensure_link_copy(wav: Path, timeout_s: float = 300.0) -> LinkCopy:
    """The link copy of ``wav``: the one already made, else made now (durably).

    Raises EncoderMissing (no opusenc: wait) or EncodeFailed (this file cannot be encoded)."""
    target = link_copy_path(wav)
    if target.is_file():
        return describe(target)
    encoder = encoder_path()
    if encoder is None:
        raise EncoderMissing(encoder_problem())
    temp = temp_path(target)
    try:
        done = subprocess.run([encoder, *OPUSENC_ARGS, str(wav), str(temp)],
                              capture_output=True, text=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        temp.unlink(missing_ok=True)
        raise EncodeFailed(f"{ENCODER} on {wav.name}: {exc}") from exc
    if done.returncode != 0 or not temp.is_file() or temp.stat().st_size == 0:
        temp.unlink(missing_ok=True)
        detail = (done.stderr or "").strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise EncodeFailed(f"{ENCODER} on {wav.name}: {detail[0][:200]}")
    with open(temp, "rb+") as written:
        os.fsync(written.fileno())
    commit_file(temp, target)
    return describe(target)
