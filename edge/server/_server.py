"""The call server: takes calls from every line, one worker thread and engine session per
call, up to a maximum; beyond it, or while the store cannot take writes, callers are turned
away as ``when_busy`` says (declined unanswered, or the busy message). On stop, calls in
progress get a grace period, then are hung up and recorded."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from edge.lines import Call, CallGone, Line
from edge.logthrottle import LogThrottle
from edge.privacy import Pseudonymiser
from edge.records import EventInput
from edge.store import Store, StoreUnavailable
from edge.survey import Session, Survey

from ._runner import MAX_CALL_S, begin_call, play_and_wait, run_call
from ._surveys import SurveySource

log = logging.getLogger("edgecall.server")
_throttled = LogThrottle(log)

WHEN_BUSY = ("reject", "message")
# Callers turned away are handled by a few threads fed from a bounded queue, never a thread
# each: a flood of calls (500 INVITEs in a second) must not cost 500 threads. Beyond the queue
# they are declined unanswered and only counted.
BUSY_THREADS = 2
BUSY_BACKLOG = 64


class CallServer:
    def __init__(
        self,
        store: Store,
        surveys: SurveySource,
        lines: Sequence[Line],
        pseudonymiser: Pseudonymiser,
        max_concurrent_calls: int = 4,
        min_free_mb: int = 20,
        timer_scale: float = 1.0,
        on_call_end: Callable[[str | None, str], None] | None = None,
        when_busy: str = "message",
        recordings_max_mb: int = 0,
    ) -> None:
        if when_busy not in WHEN_BUSY:
            raise ValueError(f"when_busy must be one of {WHEN_BUSY}, not {when_busy!r}")
        self.store = store
        self.surveys = surveys
        self.lines = list(lines)
        self.pseudonymiser = pseudonymiser
        self.max_concurrent_calls = max_concurrent_calls
        self.min_free_mb = min_free_mb
        self.recordings_max_bytes = recordings_max_mb * 1024 * 1024
        self.timer_scale = timer_scale
        self.on_call_end = on_call_end  # (call id or None when unrecorded, disposition)
        self._lock = threading.Lock()
        # Call slots in use: a worker thread (or a placed call's token) -> monotonic start.
        self._workers: dict[object, float] = {}
        self._abort = threading.Event()
        self._stopping = False
        self.dispositions: dict[str, int] = {}
        self.calls_taken = 0
        self._idle = threading.Condition(self._lock)
        self.when_busy = when_busy
        # Told of callers to call back: (kind, call, call id or None). Set by the Box when
        # callbacks are on; kind is "missed", "busy" or "cut".
        self.on_callback: Callable[[str, Call, str | None], None] | None = None
        # Lines that decline rings to call the caller back (``on_ring = "callback"``).
        self.call_back_lines: set[str] = set()
        self._turned_away: queue.Queue[tuple[Call, str] | None] = queue.Queue(BUSY_BACKLOG)
        self._busy_threads: list[threading.Thread] = []

    # -- life cycle --------------------------------------------------------------------
    def start(self) -> None:
        self.close_interrupted()
        # Recordings a crash cut short (or finished but never answered): no row names them.
        # Only here, before any call: later a file without its row may be a message in flight.
        try:
            self.store.recordings.sweep()
        except (OSError, sqlite3.Error) as exc:
            log.error("recordings not swept: %s", exc)
        self._busy_threads = [threading.Thread(target=self._turn_away_loop, daemon=True,
                                               name=f"busy-{i}") for i in range(BUSY_THREADS)]
        for thread in self._busy_threads:
            thread.start()
        for line in self.lines:
            line.start(self._on_call)
            log.info("line %s started", line.name)

    def close_interrupted(self) -> None:
        """Calls an earlier stop left open become ``error``. A store that cannot take writes
        (a full disk at start) does it when it recovers (the Box asks again then)."""
        try:
            closed = self.store.close_interrupted_calls()
        except StoreUnavailable as exc:
            log.warning("calls left open by an earlier stop are recorded once the store takes "
                        "writes (%s)", exc)
            return
        if closed:
            log.warning("%d calls left open by an earlier stop were recorded as error", closed)

    def stop(self, grace_s: float = 30.0) -> bool:
        """Stop taking calls, let calls in progress finish for ``grace_s``, then hang them up.
        Returns True when every call ended within the grace period."""
        with self._lock:
            self._stopping = True
        for line in self.lines:
            try:
                line.stop()
            except Exception:
                log.exception("line %s did not stop cleanly", line.name)
        finished = self.wait_idle(grace_s)
        if not finished:
            log.warning("grace period over: hanging up %d calls", self.active_calls)
            self._abort.set()
            self.wait_idle(10.0)
        for _thread in self._busy_threads:
            with contextlib.suppress(queue.Full):
                self._turned_away.put_nowait(None)
        return finished

    def wait_idle(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._workers:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def healthy(self) -> bool:
        """For the watchdog: the store answers, no call has outlived any real call, and no line
        reports an internal fault (a line's optional ``healthy()``: e.g. the SIP line's audio
        thread died). A line that is merely down (gateway unreachable, no SIM) is not unhealthy:
        restarting the box would not help it."""
        with self._lock:
            oldest = min(self._workers.values(), default=None)
        if oldest is not None and time.monotonic() - oldest > MAX_CALL_S + 120:
            log.error("a call worker is stuck")
            return False
        for line in self.lines:
            line_healthy = getattr(line, "healthy", None)
            if line_healthy is not None and not line_healthy():
                log.error("line %s reports an internal fault", line.name)
                return False
        return self.store.responsive(5.0)

    @property
    def active_calls(self) -> int:
        with self._lock:
            return len(self._workers)

    def free_slots(self) -> int:
        """Calls the box could still take now (0 while stopping)."""
        with self._lock:
            return 0 if self._stopping else self.max_concurrent_calls - len(self._workers)

    # -- calls the box places ------------------------------------------------------------
    def claim_slot(self, keep_free: int) -> object | None:
        """A call slot for a call the box is about to place, leaving ``keep_free`` slots for
        callers; None when there is none. Give it back with ``release_slot``."""
        with self._lock:
            if self._stopping or \
                    self.max_concurrent_calls - len(self._workers) <= keep_free:
                return None
            token = object()
            self._workers[token] = time.monotonic()
            return token

    def release_slot(self, token: object) -> None:
        with self._idle:
            self._workers.pop(token, None)
            self._idle.notify_all()

    def run_placed_call(self, call: Call, survey: Survey, attempt: str) -> tuple[str | None, str]:
        """Run the survey on a call the box placed and the far end answered (in a claimed
        slot); returns (call id, disposition). Recorded like any call, naming its attempt."""
        try:
            call_id = begin_call(call, survey, self.store, self.pseudonymiser, attempt=attempt)
        except StoreUnavailable as exc:
            log.error("store cannot take calls: %s", exc)
            with contextlib.suppress(Exception):
                call.hang_up()
            self._count(None, "error")
            return None, "error"
        try:
            disposition = run_call(call, survey, self.store, self.pseudonymiser,
                                   abort=self._abort, timer_scale=self.timer_scale,
                                   call_id=call_id,
                                   recordings_max_bytes=self.recordings_max_bytes)
        except Exception:
            log.exception("placed call %s failed", call_id)
            disposition = "error"
        self._count(call_id, disposition)
        return call_id, disposition

    def _call_back(self, kind: str, call: Call, call_id: str | None) -> None:
        hook = self.on_callback
        if hook is None or not call.caller.number or call.caller.withheld:
            return
        try:
            hook(kind, call, call_id)
        except Exception:  # queueing a callback must never cost the call itself
            log.exception("callback not queued for call %s", call_id)

    # -- calls -------------------------------------------------------------------------
    def _on_call(self, call: Call) -> None:
        with self._lock:
            if self._stopping:
                reason = "shutting down"
            elif len(self._workers) >= self.max_concurrent_calls:
                reason = "all lines busy"
            else:
                reason = None
                worker = threading.Thread(target=self._handle, args=(call,),
                                          name=f"call-{call.line_name}", daemon=True)
                self._workers[worker] = time.monotonic()
        if reason is None:
            worker.start()
            return
        _throttled.warning("refused", "call on %s refused: %s", call.line_name, reason)
        if self.when_busy == "reject":
            # Declined on the line's thread at once: the caller hears busy and pays nothing.
            self._reject(call)
        try:
            self._turned_away.put_nowait((call, reason))
        except queue.Full:
            if self.when_busy == "message":
                self._reject(call)
            self._count(None, "busy")
            self._call_back("busy", call, None)

    def _reject(self, call: Call) -> None:
        try:
            call.reject()
        except CallGone:
            pass
        except Exception:
            log.warning("declining a call failed on %s", call.line_name, exc_info=True)

    def _turn_away_loop(self) -> None:
        while (item := self._turned_away.get()) is not None:
            call, reason = item
            try:
                self._busy(call, reason, answer=self.when_busy == "message")
            except Exception:
                log.exception("turning a caller away failed on %s", call.line_name)

    def _store_problem(self) -> str | None:
        try:
            free_mb = shutil.disk_usage(self.store.path.parent).free // (1024 * 1024)
        except OSError as exc:
            return f"data directory unreadable: {exc}"
        if free_mb < self.min_free_mb:
            return f"only {free_mb} MB free in {self.store.path.parent}"
        problem = self.store.probe()
        return str(problem) if problem else None

    def _handle(self, call: Call) -> None:
        try:
            survey = self.surveys.current()
            problem = self._store_problem()
            if problem:
                log.error("store cannot take calls: %s", problem)
                self._store_unavailable(call)
                return
            try:
                call_id = begin_call(call, survey, self.store, self.pseudonymiser)
            except StoreUnavailable as exc:
                log.error("store cannot take calls: %s", exc)
                self._store_unavailable(call)
                return
            if call.line_name in self.call_back_lines and call.caller.number \
                    and not call.caller.withheld:
                # on_ring = "callback": declined unanswered (the caller pays nothing), then
                # called back.
                self._reject(call)
                self.store.end_call(call_id, "breakoff", [EventInput("declined_to_call_back")])
                self._count(call_id, "breakoff")
                self._call_back("missed", call, call_id)
                return
            disposition = run_call(
                call, survey, self.store, self.pseudonymiser, abort=self._abort,
                timer_scale=self.timer_scale, call_id=call_id,
                on_missed=lambda missed_id: self._call_back("missed", call, missed_id),
                recordings_max_bytes=self.recordings_max_bytes)
            self._count(call_id, disposition)
            if disposition == "partial":
                self._call_back("cut", call, call_id)
        except Exception:
            log.exception("call on %s failed", call.line_name)
            self._count(None, "error")
        finally:
            with self._idle:
                self._workers.pop(threading.current_thread(), None)
                self._idle.notify_all()

    def _store_unavailable(self, call: Call) -> None:
        if self.when_busy == "reject":
            self._reject(call)
        self._busy(call, "store unavailable", record=False, answer=self.when_busy == "message")

    def _busy(self, call: Call, reason: str | None, record: bool = True,
              answer: bool = True) -> None:
        """Answer, say "all lines busy", hang up (or, with ``answer`` false, only record a call
        already declined); recorded with disposition busy when the store can take it."""
        survey = self.surveys.current()
        call_id = None
        if record:
            try:
                call_id = begin_call(call, survey, self.store, self.pseudonymiser)
            except StoreUnavailable:
                call_id = None
        if answer:
            try:
                call.answer()
                play_and_wait(call, Session(survey).message("busy"))
            except CallGone:
                pass
            except Exception:
                log.exception("busy message failed on %s", call.line_name)
            finally:
                try:
                    call.hang_up()
                except Exception:
                    log.warning("hang-up failed on %s", call.line_name, exc_info=True)
        if call_id is not None:
            with contextlib.suppress(StoreUnavailable):
                self.store.end_call(call_id, "busy", [EventInput("busy", {"reason": reason})])
        self._count(call_id, "busy")
        if reason != "store unavailable":
            self._call_back("busy", call, call_id)

    def _count(self, call_id: str | None, disposition: str) -> None:
        with self._lock:
            self.calls_taken += 1
            self.dispositions[disposition] = self.dispositions.get(disposition, 0) + 1
        if self.on_call_end is not None:
            try:
                self.on_call_end(call_id, disposition)
            except Exception:
                log.exception("call-end hook failed")


def data_dir_problem(path: Path) -> str | None:
    """Why the box cannot keep data in ``path`` (None when it can). A full disk is not such a
    reason: the store then starts read-only and callers hear the busy message.

    Nothing is left behind, not even after a crash or on a full disk: the check creates an
    unnamed file (O_TMPFILE: it never has a name and vanishes when closed) and writes
    nothing to it; where the filesystem cannot do that, it asks the kernel (access(2))."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            return None
        return f"data directory {path} is not writable: {exc.strerror or exc}"
    try:
        os.close(os.open(path, os.O_TMPFILE | os.O_WRONLY, 0o600))
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return None
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):  # no O_TMPFILE here
            if os.access(path, os.W_OK | os.X_OK):
                return None
            return f"data directory {path} is not writable: permission denied"
        return f"data directory {path} is not writable: {exc.strerror or exc}"
    return None
