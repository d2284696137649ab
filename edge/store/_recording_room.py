"""Room for recordings: the box removes its own copy of recordings HQ already holds, oldest
first, when recordings take more than ``[server] recordings_max_mb`` or the disk runs short;
a recording HQ does not hold is never removed.

A recording's WAV goes first (about 1 MB a minute); its link copy (the Opus file sync sent,
about 6 % of that) stays, so the message can still be listened to on the box and another
sink can still be sent it, unless the room is still short once every held WAV is gone.

Removal order survives a crash: the ``audio`` row is marked ``removed_utc`` in a committed
transaction before its WAV is unlinked, and a process's first pass unlinks what marked rows
still left on disk. :func:`plan_room` is the pure choice; :class:`RecordingRoom` does the I/O.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._reads import StoreReads

log = logging.getLogger("edgecall.store")

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class OnDisk:
    """One recording as it is on the box now (sizes 0 for files not there)."""

    reference: str
    wav_bytes: int
    copy_bytes: int
    held: bool  # HQ confirmed it holds the recording


@dataclass(frozen=True, slots=True)
class Removal:
    reference: str
    wav: bool  # the WAV (True) or the link copy (False)
    bytes: int


@dataclass(slots=True)
class Room:
    """What a pass did and found: ``problem`` is None when the recording asked for fits."""

    used: int  # bytes recordings take after the pass (WAVs and link copies)
    free: int  # free bytes on the disk after the pass
    removed: list[Removal] = field(default_factory=list)
    problem: str | None = None

    @property
    def freed(self) -> int:
        return sum(r.bytes for r in self.removed)


def plan_room(files: Sequence[OnDisk], need: int, cap: int, free: int,
              keep_free: int) -> tuple[list[Removal], str | None]:
    """Which files to remove so that ``need`` more bytes of recording fit: recordings under
    ``cap`` bytes (0: no cap of their own) and ``keep_free`` bytes left free on the disk for
    answers. ``files`` oldest first. Held WAVs go first, oldest first, then held link copies.
    Returns the removals and why it still does not fit (None: it fits)."""
    used = sum(f.wav_bytes + f.copy_bytes for f in files)

    def short() -> bool:
        return (cap > 0 and used + need > cap) or free - need < keep_free

    removals: list[Removal] = []
    for wav in (True, False):
        for f in files:
            if not short():
                return removals, None
            size = f.wav_bytes if wav else f.copy_bytes
            if f.held and size:
                removals.append(Removal(f.reference, wav, size))
                used -= size
                free += size
    if not short():
        return removals, None
    if need:  # it does not fit anyway: remove only what the daily pass would (over the cap)
        removals = plan_room(files, 0, cap, free - sum(r.bytes for r in removals),
                             keep_free)[0]
    if cap > 0 and need > cap:
        return removals, (f"a recording this long ({need / MB:.1f} MB) is more than "
                          f"[server] recordings_max_mb ({cap / MB:.1f} MB)")
    if cap > 0 and used + need > cap:
        return removals, (f"recordings take {used / MB:.1f} MB of the {cap / MB:.1f} MB "
                          "allowed ([server] recordings_max_mb) and HQ does not hold them yet")
    return removals, (f"{free / MB:.1f} MB free on the disk: a recording this long needs "
                      f"{need / MB:.1f} MB and {keep_free / MB:.0f} MB stays free for answers")


def mark_audio_held(conn: sqlite3.Connection, reference: str, utc: str) -> None:
    """Sync's write, on its connection in its transaction: HQ confirmed it holds the
    recording (its WAV may now go when room is short)."""
    conn.execute("UPDATE audio SET held_utc = ? WHERE reference = ? AND held_utc IS NULL",
                 [utc, reference])


Write = Callable[..., AbstractContextManager[Any]]


class RecordingRoom:
    def __init__(self, root: Path, reads: StoreReads, write: Write | None,
                 now_utc: Callable[[], str], copy_suffixes: Sequence[str]) -> None:
        self.root = root
        self._reads = reads
        self._write = write
        self._now_utc = now_utc
        self._copy_suffixes = tuple(copy_suffixes)
        self._finished_cut_pass = False  # a crash's leftovers: looked for once a process

    def make_room(self, need: int, cap: int, keep_free: int) -> Room:
        """Remove what :func:`plan_room` chooses so that ``need`` bytes more fit (0: the
        daily pass, which only brings recordings back under the cap and the disk's floor)."""
        rows = self._reads.audio_room()
        if not self._finished_cut_pass:
            # A pass cut short by a crash (marked, not yet unlinked): only a new process can
            # find one, so its first pass finishes it rather than every recording's start.
            for row in rows:
                if row["removed_utc"]:
                    (self.root / row["reference"]).unlink(missing_ok=True)
            self._finished_cut_pass = True
        files = [OnDisk(row["reference"],
                        0 if row["removed_utc"] else _size(self.root / row["reference"]),
                        sum(_size(p) for p in self._copies(row["reference"])),
                        row["held_utc"] is not None)
                 for row in rows]
        free = shutil.disk_usage(self.root if self.root.is_dir() else self.root.parent).free
        removals, problem = plan_room(files, need, cap, free, keep_free)
        wavs = [r.reference for r in removals if r.wav]
        if wavs:
            if self._write is None:
                raise RuntimeError("this store is read-only: it cannot remove recordings")
            with self._write(frees=True) as db:
                db.conn.executemany(
                    "UPDATE audio SET removed_utc = ? WHERE reference = ? AND held_utc IS NOT"
                    " NULL AND removed_utc IS NULL",
                    [(self._now_utc(), reference) for reference in wavs])
        for removal in removals:
            paths = ([self.root / removal.reference] if removal.wav
                     else self._copies(removal.reference))
            for path in paths:
                path.unlink(missing_ok=True)
        room = Room(sum(f.wav_bytes + f.copy_bytes for f in files) - sum(
            r.bytes for r in removals), free + sum(r.bytes for r in removals), removals,
            problem)
        if removals:
            log.info("made room for recordings: removed %d WAVs and %d link copies HQ holds "
                     "(%.1f MB)", len(wavs), len(removals) - len(wavs), room.freed / MB)
        return room

    def _copies(self, reference: str) -> list[Path]:
        wav = self.root / reference
        return [p for p in (wav.with_suffix(s) for s in self._copy_suffixes) if p.is_file()]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
