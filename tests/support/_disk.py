"""A small real filesystem for disk tests: a tmpfs of a few MiB, mounted for one test.

Mounting needs root (CI runs as root). Where it is impossible the test is skipped, except
under ``CI=true``, where it fails: the full-disk behaviour must be proved there."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_disk(path: Path, size: str = "2m") -> Iterator[Path]:
    """``path`` (created) as a tmpfs of ``size``, unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                               str(path)], capture_output=True, text=True, check=False)
        error = (done.stderr.strip() or f"exit {done.returncode}") if done.returncode else ""
    except OSError as exc:  # no mount(8) at all
        error = str(exc)
    if error:
        why = f"cannot mount a {size} tmpfs at {path}: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(why + " (CI=true: disk tests must run)")
        pytest.skip(why)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill_disk(path: Path) -> Path:
    """Write a file until the filesystem of ``path`` is full; returns it (delete to free)."""
    filler = path / "filler"
    with open(filler, "wb", buffering=0) as out:  # unbuffered: close() has nothing to flush
        for chunk in (65536, 4096, 512):
            try:
                while out.write(b"\0" * chunk):
                    pass
            except OSError:  # ENOSPC: this chunk size no longer fits
                pass
    return filler


@contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """The small disk mounted at ``path`` (``small_disk``) read-only for the block, as
    ``ProtectSystem=strict`` makes /etc for a unit: even root cannot write there."""
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(path)], check=False)
