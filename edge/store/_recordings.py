"""Where recorded answers live on disk, and the sweep that keeps disk and database agreeing.

``<data dir>/recordings/<call id>/<state>[-<visit>].wav``; the reference the engine, the
answer and HQ know a file by is its path below ``recordings/`` (``<call id>/<state>.wav``).
A file is written durably by the line before its answer row is committed, so after a crash a
file may lack its row (half written, or complete but never answered), never the other way
round: at start ``sweep`` removes every file no ``audio`` row names.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from edge.clock import format_utc

from ._reads import StoreReads
from ._recording_room import RecordingRoom, Room, Write

log = logging.getLogger("edgecall.store")

RECORDINGS_DIR = "recordings"
# Copies of a recording made for the link to HQ (sync: ``<state>.opus`` beside
# ``<state>.wav``): kept as long as the recording's row names the WAV.
LINK_COPY_SUFFIXES = (".opus",)
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


class Recordings:
    """``write`` (the store's transaction): for :meth:`make_room`; readers (sync) pass none."""

    def __init__(self, data_dir: Path, reads: StoreReads, write: Write | None = None,
                 now_utc: Callable[[], str] | None = None) -> None:
        self.root = data_dir / RECORDINGS_DIR
        self._reads = reads
        self._room = RecordingRoom(self.root, reads, write, now_utc or _utc_now,
                                   LINK_COPY_SUFFIXES)

    def place(self, call_id: str, state: str, visit: int) -> tuple[str, Path]:
        """(reference, path) for a new recording of ``state``'s ``visit`` in the call. State
        names are the author's: anything but letters, digits, - and _ becomes _ (a name must
        never climb out of the directory)."""
        stem = _UNSAFE.sub("_", state).strip("_.") or "recording"
        stem += f"-{visit}" if visit > 1 else ""
        name, n = f"{stem}.wav", 1
        while (self.root / call_id / name).exists():  # two names that read the same
            n += 1
            name = f"{stem}~{n}.wav"
        return f"{call_id}/{name}", self.root / call_id / name

    def path_of(self, reference: str) -> Path:
        path = (self.root / reference).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"not a recording reference: {reference!r}")
        return path

    def sweep(self) -> list[Path]:
        """Remove every file under recordings/ that no audio row names (a recording cut short
        by a crash, or complete but never answered) and the directories left empty; returns
        what was removed. Run at start, before any call."""
        if not self.root.is_dir():
            return []
        named = set(self._reads.audio_references())
        removed: list[Path] = []
        for call_dir in sorted(p for p in self.root.iterdir()):
            if not call_dir.is_dir():
                if call_dir.name not in named:
                    removed.append(call_dir)
                    call_dir.unlink(missing_ok=True)
                continue
            for path in sorted(call_dir.iterdir()):
                if f"{call_dir.name}/{path.name}" in named or _link_copy_of(
                        f"{call_dir.name}/{path.name}", named):
                    continue
                removed.append(path)
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
            if not any(call_dir.iterdir()):
                call_dir.rmdir()
        if removed:
            log.warning("removed %d recording files no answer names (left by a crash)",
                        len(removed))
        return removed

    def link_copies(self, reference: str) -> list[Path]:
        """The link copies made of a recording (sync's upload to HQ), those that exist."""
        wav = self.path_of(reference)
        return [p for p in (wav.with_suffix(s) for s in LINK_COPY_SUFFIXES) if p.is_file()]

    def make_room(self, need: int, cap: int, keep_free: int) -> Room:
        """Make room for ``need`` bytes more of recording by removing the box's copy of
        recordings HQ holds (edge.store._recording_room)."""
        return self._room.make_room(need, cap, keep_free)

    def missing(self) -> list[str]:
        """References of audio rows whose file is not there and was not removed to make room
        (never the case unless someone deleted files by hand)."""
        removed = set(self._reads.audio_removed())
        return [r for r in self._reads.audio_references()
                if r not in removed and not (self.root / r).is_file()]


def _utc_now() -> str:
    return format_utc(time.time())


def _link_copy_of(name: str, named: set[str]) -> bool:
    """``<call>/<state>.opus`` is the link copy of a named ``<call>/<state>.wav``."""
    stem, dot, suffix = name.rpartition(".")
    return bool(dot) and f".{suffix}" in LINK_COPY_SUFFIXES and f"{stem}.wav" in named
