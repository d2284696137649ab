"""The call server: takes calls from every line, one worker thread and engine session per
call, up to a maximum; beyond it, or while the store cannot take writes, callers are turned
away as ``when_busy`` says (declined unanswered, or the busy message). On stop, calls in
progress get a grace period, then are hung up and recorded."""

from __future__ import annotations

import contextlib
import logging
import queue
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from edge.lines import Call, CallGone, Line
from edge.logthrottle import LogThrottle
from edge.privacy import Pseudonymiser
from edge.records import EventInput
from edge.store import Store, StoreUnavailable
from edge.survey import Session

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
    ) -> None:
        if when_busy not in WHEN_BUSY:
            raise ValueError(f"when_busy must be one of {WHEN_BUSY}, not {when_busy!r}")
        self.store = store
        self.surveys = surveys
        self.lines = list(lines)
        self.pseudonymiser = pseudonymiser
        self.max_concurrent_calls = max_concurrent_calls
        self.min_free_mb = min_free_mb
        self.timer_scale = timer_scale
        self.on_call_end = on_call_end  # (call id or None when unrecorded, disposition)
        self._lock = threading.Lock()
        self._workers: dict[threading.Thread, float] = {}  # worker -> monotonic start
        self._abort = threading.Event()
        self._stopping = False
        self.dispositions: dict[str, int] = {}
        self.calls_taken = 0
        self._idle = threading.Condition(self._lock)
        self.when_busy = when_busy
        self._turned_away: queue.Queue[tuple[Call, str] | None] = queue.Queue(BUSY_BACKLOG)
        self._busy_threads: list[threading.Thread] = []

    # -- life cycle --------------------------------------------------------------------
    def start(self) -> None:
        closed = self.store.close_interrupted_calls()
        if closed:
            log.warning("%d calls left open by an earlier stop were recorded as error", closed)
        self._busy_threads = [threading.Thread(target=self._turn_away_loop, daemon=True,
                                               name=f"busy-{i}") for i in range(BUSY_THREADS)]
        for thread in self._busy_threads:
            thread.start()
        for line in self.lines:
            line.start(self._on_call)
            log.info("line %s started", line.name)

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
            disposition = run_call(call, survey, self.store, self.pseudonymiser,
                                   abort=self._abort, timer_scale=self.timer_scale,
                                   call_id=call_id)
            self._count(call_id, disposition)
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
    """Why the box cannot keep data in ``path`` (None when it can)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".edgecall-write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return f"data directory {path} is not writable: {exc.strerror or exc}"
    return None
