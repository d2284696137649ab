"""Recordings on HQ's disk: the part of an upload in progress, then the whole file.

``<audio dir>/.parts/<box>/<sha1 of reference>.part`` grows chunk by chunk (its size is what
HQ holds: the resume point); once it has the announced size and matches the announced
SHA-256 it is fsynced and renamed to ``<audio dir>/<box>/<call id>/<state>.opus``. Appends
and the final rename of one recording are serialised across workers by ``flock`` on one of
a fixed set of lock files (workers are processes; a lock file per recording would pile up)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from edge.lines import commit_file, durable_mkdir

LOCK_STRIPES = 64
LINK_SUFFIX = ".opus"


class OffsetMismatch(Exception):
    def __init__(self, held: int) -> None:
        super().__init__(f"holds {held} bytes")
        self.held = held


class AudioFiles:
    def __init__(self, root: Path, part_ttl_s: float = 7 * 86400.0) -> None:
        self.root = root
        # A recording's part waits longer than a batch's: a box on a small daily budget
        # sends a long message over days.
        self.part_ttl_s = part_ttl_s

    @staticmethod
    def relative_path(reference: str) -> str:
        """Where a whole recording goes, under the root (``<box>/<call id>/<state>.opus``);
        ``reference`` is already checked (AUDIO_REFERENCE: no "..", no absolute path)."""
        call_id, name = reference.split("/")
        box = call_id.split(".", 1)[0]
        return f"{box}/{call_id}/{name.removesuffix('.wav')}{LINK_SUFFIX}"

    def path(self, relative: str) -> Path:
        return self.root / relative

    def _part(self, box: str, reference: str) -> Path:
        name = hashlib.sha1(reference.encode()).hexdigest()
        return self.root / ".parts" / box / f"{name}.part"

    @contextlib.contextmanager
    def _locked(self, reference: str) -> Iterator[None]:
        locks = self.root / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        stripe = int(hashlib.sha1(reference.encode()).hexdigest(), 16) % LOCK_STRIPES
        with open(locks / f"{stripe}.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def held(self, box: str, reference: str) -> int:
        """Bytes of the upload in progress (0: none, or one abandoned longer than the ttl)."""
        part = self._part(box, reference)
        try:
            stat = part.stat()
        except FileNotFoundError:
            return 0
        if time.time() - stat.st_mtime > self.part_ttl_s:
            part.unlink(missing_ok=True)
            return 0
        return stat.st_size

    def append(self, box: str, reference: str, offset: int, data: bytes) -> int:
        """Add ``data`` at ``offset``; the bytes now held. OffsetMismatch when HQ does not
        hold exactly ``offset`` bytes (another upload moved on, or the part expired)."""
        part = self._part(box, reference)
        with self._locked(reference):
            held = self.held(box, reference)
            if held != offset:
                raise OffsetMismatch(held)
            if not data:
                return held
            part.parent.mkdir(parents=True, exist_ok=True)
            with open(part, "ab") as out:
                out.write(data)
            return held + len(data)

    def finish(self, box: str, reference: str, size: int, sha256: str) -> str | None:
        """The whole upload becomes the recording's file (fsync, rename, directory fsync):
        its path under the root; None when the bytes do not match ``sha256`` (the part is
        dropped: the box sends it again)."""
        part = self._part(box, reference)
        relative = self.relative_path(reference)
        with self._locked(reference):
            target = self.path(relative)
            if target.is_file():  # a crossing upload finished first: never overwritten
                part.unlink(missing_ok=True)
                return relative
            if not part.is_file():  # expired meanwhile: the box sends it again
                return None
            digest = hashlib.sha256()
            with open(part, "rb") as source:
                while chunk := source.read(1 << 16):
                    digest.update(chunk)
                os.fsync(source.fileno())
            if part.stat().st_size != size or digest.hexdigest() != sha256:
                part.unlink(missing_ok=True)
                return None
            durable_mkdir(target.parent)
            commit_file(part, target)
        return relative

    def drop(self, box: str, reference: str) -> None:
        with self._locked(reference):
            self._part(box, reference).unlink(missing_ok=True)
