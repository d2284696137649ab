"""Runs one answered call: the adapter between a Call (I/O) and the engine (pure).

It carries out the engine's actions in order — an answer's durable commit returns before the
next prompt is started — owns the engine's one timer on the monotonic clock, and turns line
events into engine events. Recordings: see _recording.py (the file is durable and checked
before the engine hears of it; its answer is committed after).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from edge.lines import (
    Call,
    CallGone,
    KeyPressed,
    PlaybackFinished,
    RecordingFinished,
    RemoteHangup,
    TransferFinished,
)
from edge.privacy import Pseudonymiser
from edge.records import EventInput
from edge.store import Store, StoreUnavailable
from edge.survey import Survey
from edge.survey.engine import (
    Action,
    CallInfo,
    CancelTimer,
    Connect,
    ConnectEnded,
    End,
    HungUp,
    Key,
    Note,
    Play,
    PromptEnded,
    QueueRequest,
    Record,
    RecordAnswer,
    RecordingEnded,
    RecordResults,
    RequestCallback,
    Session,
    StartTimer,
    StopPlayback,
    StopRecording,
    Timeout,
)

from ._recording import CallRecordings

log = logging.getLogger("edgecall.call")

# Longest wait for one line event, so a shutdown request is noticed promptly.
_POLL_S = 0.5
# A call that somehow never ends (a line that never reports hang-up) is cut after this.
MAX_CALL_S = 45 * 60


class _Timer:
    def __init__(self, mono: Callable[[], float]) -> None:
        self._mono = mono
        self.timer_id: int | None = None
        self.deadline: float | None = None

    def start(self, timer_id: int, seconds: float) -> None:
        self.timer_id, self.deadline = timer_id, self._mono() + seconds

    def cancel(self) -> None:
        self.timer_id = self.deadline = None

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - self._mono())

    def expired(self) -> int | None:
        if self.deadline is not None and self._mono() >= self.deadline:
            timer_id, self.timer_id, self.deadline = self.timer_id, None, None
            return timer_id
        return None


def begin_call(call: Call, survey: Survey, store: Store, pseudonymiser: Pseudonymiser,
               attempt: str | None = None) -> str:
    """Create the call's record (its stable id) from what the line knows of the caller (for a
    call the box placed, ``attempt`` names the outbound attempt)."""
    caller = call.caller
    return store.begin_call(
        call.line_name,
        pseudonymiser.pseudonym(caller.number),
        caller.withheld or not caller.number,
        survey.id,
        survey.version,
        attempt=attempt,
    )


def run_call(
    call: Call,
    survey: Survey,
    store: Store,
    pseudonymiser: Pseudonymiser,
    *,
    abort: threading.Event | None = None,
    timer_scale: float = 1.0,
    mono: Callable[[], float] = time.monotonic,
    call_id: str | None = None,
    on_missed: Callable[[str], None] | None = None,
    recordings_max_bytes: int = 0,
) -> str:
    """Answer ``call``, run the survey to its end, return the disposition.

    ``abort`` (set on shutdown after the grace period) hangs the call up from our side.
    ``timer_scale`` shrinks silence timeouts for the accelerated demo only.
    ``on_missed(call_id)`` is told when the caller hung up while it rang (a missed call).
    ``recordings_max_bytes``: ``[server] recordings_max_mb`` in bytes (0: no cap).
    """
    if call_id is None:
        call_id = begin_call(call, survey, store, pseudonymiser)
    try:
        call.answer()
    except CallGone:
        store.end_call(call_id, "breakoff", [EventInput("gone_before_answer")])
        if on_missed is not None:
            on_missed(call_id)
        return "breakoff"
    log.info("call %s answered on %s", call_id, call.line_name)
    session = Session(survey, call=call_info(call, call_id, pseudonymiser))
    notes: list[EventInput] = []
    recordings = CallRecordings(store, call_id, notes, recordings_max_bytes)
    try:
        return _run(call, call_id, session, store, pseudonymiser, notes, recordings, abort,
                    timer_scale, mono)
    finally:
        recordings.close(call)


def _run(call: Call, call_id: str, session: Session, store: Store,
         pseudonymiser: Pseudonymiser, notes: list[EventInput], recordings: CallRecordings,
         abort: threading.Event | None, timer_scale: float,
         mono: Callable[[], float]) -> str:
    timer = _Timer(mono)
    started = mono()
    actions = session.start()
    while True:
        outcome = _carry_out(actions, call, call_id, session, store, pseudonymiser, notes, timer,
                             timer_scale, recordings)
        if outcome is not None:
            log.info("call %s ended: %s", call_id, outcome)
            return outcome
        if abort is not None and abort.is_set():
            notes.append(EventInput("shutdown"))
            call.hang_up()
            actions = session.feed(HungUp("shutdown"))
            continue
        if mono() - started > MAX_CALL_S:
            notes.append(EventInput("max_duration"))
            call.hang_up()
            actions = session.feed(HungUp("max duration"))
            continue
        remaining = timer.remaining()
        wait = _POLL_S if remaining is None else min(remaining, _POLL_S)
        try:
            event = call.next_event(wait)
        except Exception as exc:  # a line adapter fault: the call is lost, record it honestly
            log.exception("line %s failed during call %s", call.line_name, call_id)
            notes.append(EventInput("line_error", {"error": type(exc).__name__}))
            _safe_hang_up(call)
            store.end_call(call_id, "error", notes)
            return "error"
        if event is None:
            expired = timer.expired()
            actions = session.feed(Timeout(expired)) if expired is not None else []
        elif isinstance(event, KeyPressed):
            actions = session.feed(Key(event.digit))
        elif isinstance(event, PlaybackFinished):
            actions = session.feed(PromptEnded(event.play_id))
        elif isinstance(event, RemoteHangup):
            notes.append(EventInput("remote_hangup", {"reason": event.reason}))
            actions = session.feed(HungUp(event.reason))
        elif isinstance(event, RecordingFinished):
            ended = recordings.ended(event)
            actions = session.feed(ended) if ended is not None else []
        elif isinstance(event, TransferFinished):
            notes.append(EventInput("transfer", {"status": event.status,
                                                 "detail": event.detail}))
            actions = session.feed(ConnectEnded(event.transfer_id, event.status))
        else:
            actions = []


def call_info(call: Call, call_id: str, pseudonymiser: Pseudonymiser) -> CallInfo:
    """Studio's ``trigger.call`` for the engine. ``To`` is the number the line answers on when
    the line knows it (``called``), else the line's name."""
    number = None if call.caller.withheld else call.caller.number
    return CallInfo(from_number=number, to=getattr(call, "called", None) or call.line_name,
                    call_sid=call_id,
                    caller_label=pseudonymiser.pseudonym(number) if number else None)


def _carry_out(
    actions: list[Action],
    call: Call,
    call_id: str,
    session: Session,
    store: Store,
    pseudonymiser: Pseudonymiser,
    notes: list[EventInput],
    timer: _Timer,
    timer_scale: float,
    recordings: CallRecordings,
) -> str | None:
    """Do the actions in order; return the disposition when the call is over."""
    pending = list(actions)
    later: list[RecordingEnded] = []  # fed to the engine once these actions are carried out
    while pending or later:
        if not pending:
            pending = session.feed(later.pop(0))
            continue
        action = pending.pop(0)
        if isinstance(action, Play):
            call.play(action.play_id, action.utterances)
        elif isinstance(action, StopPlayback):
            call.stop_playback()
        elif isinstance(action, Record):
            refused = recordings.start(action, call)
            if refused is not None:  # no room on the disk: as if the line said so at once
                later.append(refused)
        elif isinstance(action, StopRecording):
            call.stop_recording()
        elif isinstance(action, Connect):
            # Ring time as the line measures it (a simulated line runs its own clock fast).
            call.transfer(action.connect_id, action.number, action.timeout_s)
        elif isinstance(action, StartTimer):
            timer.start(action.timer_id, action.seconds * timer_scale)
        elif isinstance(action, CancelTimer):
            timer.cancel()
        elif isinstance(action, Note):
            notes.append(EventInput(action.kind, action.detail))
            if action.kind == "opt_out" and call.caller.number:
                # No campaign calls this caller again (kept by pseudonym only).
                try:
                    store.outbound.opt_out(pseudonymiser.pseudonym(call.caller.number), call_id)
                except StoreUnavailable as exc:
                    log.error("call %s: opt-out not stored (%s)", call_id, exc)
        elif isinstance(action, RecordAnswer):
            audio = None if action.audio is None else recordings.file(action.audio.reference)
            try:
                store.record_answer(call_id, action.answer, action.language,
                                    session.survey.version, notes, action.sets_language,
                                    audio=audio)
                if audio is not None:
                    recordings.committed(audio.reference)
            except StoreUnavailable as exc:
                # Not committed: the caller must not be led on as if it were. Apologise, stop.
                log.error("call %s: answer not stored (%s); ending the call", call_id, exc)
                _apologise(call, session)
                _try_end(store, call_id, "error", [EventInput("store_error", {"error": str(exc)})])
                return "error"
            notes.clear()
        elif isinstance(action, RecordResults | QueueRequest):
            try:
                if isinstance(action, RecordResults):
                    store.record_results(call_id, action.results, notes)
                else:
                    store.queue_request(call_id, action.request, notes)
            except StoreUnavailable as exc:
                log.error("call %s: results not stored (%s); ending the call", call_id, exc)
                _apologise(call, session)
                _try_end(store, call_id, "error", [EventInput("store_error", {"error": str(exc)})])
                return "error"
            notes.clear()
        elif isinstance(action, RequestCallback):
            number = call.caller.number
            if number and not call.caller.withheld:
                store.request_callback(call_id, number)
                notes.append(EventInput("callback_requested", {"question": action.question}))
            else:
                notes.append(EventInput("callback_impossible", {"reason": "number withheld"}))
        elif isinstance(action, End):
            if action.hang_up:
                _safe_hang_up(call)
            _try_end(store, call_id, action.disposition, notes)
            return action.disposition
    return None


def play_and_wait(call: Call, utterances: tuple, play_id: int = 1, limit_s: float = 20.0) -> None:
    """Play a message to its end (or the caller's hang-up), for busy/apology messages."""
    if not utterances:
        return
    call.play(play_id, utterances)
    deadline = time.monotonic() + limit_s
    while (left := deadline - time.monotonic()) > 0:
        event = call.next_event(left)
        if isinstance(event, RemoteHangup) or (
            isinstance(event, PlaybackFinished) and event.play_id == play_id
        ):
            return


def _apologise(call: Call, session: Session) -> None:
    try:
        call.stop_playback()
        play_and_wait(call, session.message("error"), play_id=10_000_000)
    finally:
        _safe_hang_up(call)


def _safe_hang_up(call: Call) -> None:
    try:
        call.hang_up()
    except Exception:  # hanging up a line that already failed must not hide the outcome
        log.warning("hang-up failed on %s", call.line_name, exc_info=True)


def _try_end(store: Store, call_id: str, disposition: str, notes: list[EventInput]) -> None:
    try:
        store.end_call(call_id, disposition, notes)
    except StoreUnavailable as exc:
        # The call stays open in the database; the next start closes it as "error".
        log.error("call %s: disposition %s not stored (%s)", call_id, disposition, exc)
