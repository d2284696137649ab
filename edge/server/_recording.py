"""The runner's side of recorded answers, for one call: where a recording goes, what the
line's report means to the engine, and cleaning up what no answer keeps.

Order of durability: the line makes the file durable before it reports; this checks the file
is complete before the engine hears of it; the answer row (with its ``audio`` row) is
committed after that, by the runner. A file that no committed answer names is removed when
the call ends (and, after a crash, by the store's sweep at the next start).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from edge.lines import (
    FORMAT,
    Call,
    RecordingFinished,
    durable_mkdir,
    recording_problem,
    temp_path,
)
from edge.records import AudioFile, EventInput
from edge.store import Store, StoreUnavailable
from edge.survey.engine import Record, RecordingEnded

log = logging.getLogger("edgecall.call")

# Disk a recording may not eat into: the store's answers come first.
KEEP_FREE_BYTES = 64 * 1024 * 1024
BYTES_PER_S = 16_000  # 8 kHz, 16-bit
# The WAVs' bytes times this estimates what recordings take with their link copies (Opus:
# about 6 %), to decide cheaply whether to measure and make room.
COPY_ALLOWANCE = 1.1
# After the call ends, how long to wait for a recording still being finished.
CLOSE_WAIT_S = 10.0


@dataclass
class _Taken:
    reference: str
    path: Path
    file: AudioFile | None = None
    committed: bool = False


class CallRecordings:
    """``cap``: the most bytes recordings may take on the box (``[server] recordings_max_mb``;
    0: no cap of their own)."""

    def __init__(self, store: Store, call_id: str, notes: list[EventInput],
                 cap: int = 0) -> None:
        self._store = store
        self._cap = cap
        self._call_id = call_id
        self._notes = notes
        self._taken: dict[int, _Taken] = {}
        self._by_reference: dict[str, _Taken] = {}
        self.outstanding: int | None = None  # asked of the line, not yet reported

    def start(self, action: Record, call: Call) -> RecordingEnded | None:
        """Ask the line to record; a RecordingEnded to feed at once when it cannot even
        start (no room on the disk)."""
        reference, path = self._store.recordings.place(self._call_id, action.state,
                                                       action.visit)
        taken = _Taken(reference, path)
        self._taken[action.record_id] = taken
        self._by_reference[reference] = taken
        need = action.max_s * BYTES_PER_S
        try:
            durable_mkdir(path.parent)
            free = shutil.disk_usage(path.parent).free
        except OSError as exc:
            return self._refused(action, f"recordings directory unusable: {exc}")
        kept = self._store.reads.audio_bytes_kept() * COPY_ALLOWANCE if self._cap else 0
        if (self._cap and kept + need > self._cap) or free < KEEP_FREE_BYTES + need:
            # Short of room (or a cap to keep): the box's copies of what HQ holds may go.
            try:
                problem = self._store.recordings.make_room(need, self._cap,
                                                           KEEP_FREE_BYTES).problem
            except (OSError, StoreUnavailable) as exc:
                problem = f"no room made for it: {exc}"
            if problem:
                return self._refused(action, problem)
        self.outstanding = action.record_id
        call.record(action.record_id, path, action.max_s, action.silence_s,
                    action.finish_keys)
        return None

    def _refused(self, action: Record, why: str) -> RecordingEnded:
        log.error("call %s: no recording of %s: %s", self._call_id, action.state, why)
        self._notes.append(EventInput("recording_refused", {"state": action.state,
                                                             "why": why}))
        return RecordingEnded(action.record_id, None, 0.0, "failed")

    def ended(self, event: RecordingFinished) -> RecordingEnded | None:
        """The engine's event for the line's report, once the file is checked complete; None
        for a report of no recording of this call."""
        taken = self._taken.get(event.record_id)
        if taken is None:
            return None
        if self.outstanding == event.record_id:
            self.outstanding = None
        if event.path is None:
            return RecordingEnded(event.record_id, None, event.seconds, event.reason,
                                  event.key)
        problem = recording_problem(taken.path) if Path(event.path) == taken.path \
            else "reported at another path"
        if problem is not None:
            log.error("call %s: recording %s %s; not kept", self._call_id, taken.reference,
                      problem)
            self._notes.append(EventInput("recording_bad", {"problem": problem}))
            self._discard(taken)
            return RecordingEnded(event.record_id, None, 0.0, "failed", event.key)
        taken.file = _facts(taken, event.seconds)
        return RecordingEnded(event.record_id, taken.reference, event.seconds, event.reason,
                              event.key)

    def file(self, reference: str) -> AudioFile:
        """The checked facts of a recording this call reported complete (the engine only
        ever names those)."""
        found = self._by_reference[reference].file
        if found is None:
            raise KeyError(f"recording {reference} was not reported complete")
        return found

    def committed(self, reference: str) -> None:
        taken = self._by_reference.get(reference)
        if taken is not None:
            taken.committed = True

    def close(self, call: Call) -> None:
        """The call is over: stop a recording still running (and wait a little for its
        report), then remove every file of this call that no committed answer names."""
        if self.outstanding is not None:
            try:
                call.stop_recording()
                deadline = time.monotonic() + CLOSE_WAIT_S
                while self.outstanding is not None and (left := deadline - time.monotonic()) > 0:
                    event = call.next_event(min(left, 0.5))
                    if isinstance(event, RecordingFinished):
                        self.ended(event)
            except Exception:  # the call is over either way; the sweep is the backstop
                log.warning("call %s: recording not stopped cleanly", self._call_id,
                            exc_info=True)
        for taken in self._taken.values():
            if not taken.committed:
                self._discard(taken)

    def _discard(self, taken: _Taken) -> None:
        for path in (taken.path, temp_path(taken.path)):
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("recording %s not removed: %s", taken.reference, exc)
        with contextlib.suppress(OSError):
            taken.path.parent.rmdir()  # only when empty


def _facts(taken: _Taken, seconds: float) -> AudioFile:
    digest = hashlib.sha256()
    size = 0
    with open(taken.path, "rb") as wav:
        while chunk := wav.read(1 << 16):
            digest.update(chunk)
            size += len(chunk)
    return AudioFile(taken.reference, size, digest.hexdigest(), round(seconds, 3), FORMAT)
