"""One call's survey session: a deterministic state machine fed events, returning actions.

No threads, clocks or I/O: the adapter plays prompts, runs the one timer and commits answers.
Semantics follow Twilio <Gather>: the silence timeout starts when the prompt ends and restarts
with every key; input ends on ``num_digits`` keys, the finish key, or silence after at least one
key; a key during a question's prompt stops it (barge-in).

A record state (Studio's record-voicemail) plays its prompt and tone, then asks the adapter to
``Record``; the line records and the adapter answers ``RecordingEnded`` with the name it gave
the file: the engine never sees paths or sound. A connect state (connect-call-to) asks it to
``Connect`` the caller to a number the same way and hears back ``ConnectEnded``.

Templates see the call as a Studio flow does: ``trigger.call`` (From, To, CallSid),
``widgets.<state>`` (Digits and each widget's outputs), ``flow.variables``, ``flow.data``,
plus ``answers`` and ``language``.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from edge.lines import KEYS, Utterance
from edge.records import AnswerInput, AudioInput, RequestInput, ResultsInput
from edge.survey._audio import BEEP
from edge.survey._model import AUDIO_COMPLETE, NO_MATCH, TIMEOUT, Prompt, State, Survey
from edge.survey._templates import Template
from edge.survey.nodes import KINDS, Step
from edge.survey.nodes.connect import KIND as CONNECT
from edge.survey.nodes.record import KIND as RECORD

from ._actions import (
    Action,
    CancelTimer,
    Connect,
    End,
    Note,
    Play,
    QueueRequest,
    Record,
    RecordAnswer,
    RecordResults,
    RequestCallback,
    StartTimer,
    StopPlayback,
    StopRecording,
)
from ._context import CallInfo
from ._events import ConnectEnded, Event, HungUp, Key, PromptEnded, RecordingEnded, Timeout

# Modes of the session.
_IDLE, _PROMPTING, _LISTENING, _ENDING, _DONE = "idle", "prompting", "listening", "ending", "done"
_RECORDING = "recording"
# Beyond a recording's max length, how long the engine waits for the line's report before
# giving the recording up: a line that never reports must not hold the call for ever.
RECORD_GRACE_S = 30.0
_CONNECTING = "connecting"
# Beyond a transfer's ring time, how long the engine waits for the line's report (a gateway's
# final word on a REFER can take a while) before it takes the transfer as failed.
CONNECT_GRACE_S = 60.0


class Session:
    def __init__(self, survey: Survey, language: str | None = None,
                 call: CallInfo | None = None) -> None:
        self.survey = survey
        self.call = call or CallInfo()
        self.language = language if language in survey.languages else survey.default_language
        self.disposition: str | None = None
        self.answers: dict[str, str] = {}
        self.answered = 0  # answers that count towards "partial" (the language choice does not)
        self.variables: dict[str, str] = {}  # {{flow.variables.*}}
        self.widgets: dict[str, dict[str, Any]] = {}  # {{widgets.<state>.*}}
        self._results_version = 0
        self._results_dirty = False
        self._results_final_due = False
        self._visits: dict[str, int] = {}
        # The caller's last question ended in silence and nothing was answered since: an end
        # reached now is "no-input", not "complete".
        self._silent = False
        self._silences = 0  # questions given up in silence, optional ones included
        self._state: State | None = None
        self._mode = _IDLE
        self._final: str | None = None  # disposition decided while the closing message plays
        self._play_id = 0
        self._playing: int | None = None
        self._timer_id = 0
        self._timer_running = False
        self._digits = ""
        self._raw = ""
        self._attempts = self._invalid = self._timeouts = 0
        self._typeahead: deque[str] = deque()
        # A number that ended on its last digit leaves a finish key the caller may still press
        # out of habit: it must not become an (invalid) answer to the next question.
        self._swallow = ""
        self._notes: list[Note] = []  # timeline notes made while building a prompt
        self._record_id = 0
        self._record_visit = 0
        self._connect_id = 0

    # -- public face -------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.disposition is not None

    @property
    def state_name(self) -> str | None:
        return self._state.name if self._state else None

    def start(self) -> list[Action]:
        if self._mode != _IDLE:
            return []
        return self._guard(lambda out: self._goto(self.survey.initial_state, out))

    def feed(self, event: Event) -> list[Action]:
        """Advance with one event. Never raises: an internal fault ends the call as error."""
        if self.finished:
            return []
        if isinstance(event, Key):
            return self._guard(lambda out: self._key(event.digit, out))
        if isinstance(event, PromptEnded):
            return self._guard(lambda out: self._prompt_ended(event.play_id, out))
        if isinstance(event, Timeout):
            return self._guard(lambda out: self._timeout(event.timer_id, out))
        if isinstance(event, HungUp):
            return self._guard(lambda out: self._hung_up(out))
        if isinstance(event, RecordingEnded):
            return self._guard(lambda out: self._recording_ended(event, out))
        if isinstance(event, ConnectEnded):
            return self._guard(lambda out: self._connect_ended(event, out))
        return []

    # -- plumbing ----------------------------------------------------------------------
    def _guard(self, step: Any) -> list[Action]:
        out: list[Action] = []
        try:
            step(out)
        except Exception as exc:  # the caller must still get a clean end and a disposition
            out.append(Note("engine_error", {"error": type(exc).__name__}))
            if not self.finished:
                self._finish("error", out)
        return out

    def _context(self) -> dict[str, Any]:
        return {
            "answers": self.answers,
            "widgets": self.widgets,
            "flow": {"variables": self.variables,
                     "data": {**self.survey.data, **self.call.data}},
            "trigger": self.call.trigger(),
            "language": self.language,
        }

    def _render(self, text: str) -> str:
        template = self.survey.templates.get(text)
        if template is None:
            return text if "{{" not in text and "{%" not in text else Template(text).render(
                self._context())
        return template.render(self._context())

    def _utterance(self, key: str, prompt: Prompt, language: str,
                   voice: str | None = None) -> Utterance | None:
        """The prompt's text in ``language`` (else the default, else any), labelled with the
        language it is written in: a Spanish text must not go to an English voice. ``voice``
        (a state's own language) labels it whatever text it falls back to."""
        for found in (language, self.survey.default_language, *prompt):
            entry = prompt.get(found)
            if entry is not None:
                break
        else:
            return None
        return Utterance(key, voice or found, self._render(entry.text) if entry.text else "",
                         entry.audio)

    def _prompt_of(self, state: State) -> tuple[Utterance, ...]:
        if state.prompt is None:
            return ()
        voice = self._speak_in(state) if "language" in state.props else None
        languages = self.survey.languages if state.kind == "language" else (self.language,)
        found = (self._utterance(f"{state.name}.prompt", state.prompt, lang, voice)
                 for lang in languages)
        utterances = tuple(u for u in found if u is not None)
        return utterances * state.props.get("loop", 1)

    def _speak_in(self, state: State) -> str | None:
        """A state with its own language (Studio's widget language, maybe a variable) speaks
        it and switches the call to it: later messages and answers follow."""
        wanted = self._render(state.props["language"]).strip()
        language = _declared(wanted, self.survey.languages)
        if language is None:
            # never the rendered value itself: it could be caller data
            self._notes.append(Note("language_unknown", {"state": state.name}))
        elif language != self.language:
            self.language = language
            self._notes.append(Note("language", {"state": state.name, "language": language}))
        return language

    def message(self, name: str) -> tuple[Utterance, ...]:
        prompt = self.survey.messages.get(name) or {}
        utterance = self._utterance(f"message.{name}", prompt, self.language)
        return (utterance,) if utterance else ()

    def _play(self, utterances: tuple[Utterance, ...], out: list[Action]) -> None:
        out.extend(self._notes)
        self._notes.clear()
        self._flush_results(out)
        self._cancel_timer(out)
        self._play_id += 1
        if not utterances:  # nothing to say: behave as if it had been said
            self._playing = None
            self._after_prompt(out)
            return
        self._playing = self._play_id
        out.append(Play(self._play_id, utterances))

    def _start_timer(self, seconds: float, out: list[Action]) -> None:
        self._timer_id += 1
        self._timer_running = True
        out.append(StartTimer(self._timer_id, seconds))

    def _cancel_timer(self, out: list[Action]) -> None:
        if self._timer_running:
            self._timer_running = False
            out.append(CancelTimer())

    def _stop_prompt(self, out: list[Action]) -> None:
        if self._playing is not None:
            self._playing = None
            out.append(StopPlayback())

    def _flush_results(self, out: list[Action]) -> None:
        """Results that changed are stored before anything else is played (or the end)."""
        if not self._results_dirty:
            return
        self._results_dirty = False
        self._results_version += 1
        out.append(RecordResults(ResultsInput(
            self._results_version, self.call.scrub(self.widgets),
            self.call.scrub(self.variables))))

    def _closing(self, explicit: str | None) -> str:
        """What reaching the end of the flow means (see nodes/end.py)."""
        if explicit:
            return explicit
        if self._silent or (self._silences and not self.answered):
            return "no-input"  # the caller went silent, or never answered anything
        return self.survey.settings.end_disposition

    def _finish(self, disposition: str, out: list[Action], hang_up: bool = True) -> None:
        out.extend(self._notes)
        self._notes.clear()
        self._results_dirty = self._results_dirty or self._results_final_due
        self._flush_results(out)
        self._cancel_timer(out)
        self._mode = _DONE
        self.disposition = disposition
        out.append(End(disposition, hang_up))

    def _end_with(self, message: str, disposition: str, out: list[Action]) -> None:
        self._final = disposition
        self._mode = _ENDING
        self._stop_prompt(out)
        out.append(Note("ending", {"disposition": disposition}))
        self._play(self.message(message), out)

    # -- moving through the graph ------------------------------------------------------
    def _goto(self, target: str | None, out: list[Action]) -> None:
        for _hop in range(len(self.survey.states) + 1):
            if target is None:
                self._finish(self._final or self._closing(None), out)
                return
            state = self.survey.states[target]
            self._state = state
            visits = self._visits[state.name] = self._visits.get(state.name, 0) + 1
            if visits > self.survey.settings.max_visits:
                # A flow that goes round for ever (Studio stops such executions too).
                out.append(Note("visit_limit", {"state": state.name}))
                self._end_with("no_input", "no-input" if self._silent or not self.answered
                               else "partial", out)
                return
            kind = KINDS[state.kind]
            if kind.behaviour == "route":
                step = kind.step(state, self._render, self.survey.settings)
                if step.connect is not None:
                    self._start_connect(state, step, out)
                    return
                self._took(state, step, visits, out)
                target = state.target(step.event)[1]
                continue
            if kind.behaviour == "say":
                if state.kind == "end":
                    self._final = self._closing(state.props["disposition"])
                    self._mode = _ENDING
                elif self._typeahead and state.props.get("barge_in"):
                    target = state.target(AUDIO_COMPLETE)[1]  # the caller is ahead: skip it
                    continue
                else:
                    self._mode = _PROMPTING
                self._play(self._prompt_of(state), out)
                return
            if kind.behaviour == "record":
                self._typeahead.clear()  # keys before a message are not its answer
                self._mode = _PROMPTING
                self._record_visit = visits
                self._play(self._prompt_of(state) + self._beep(state), out)
                return
            self._enter_question(state, out)
            return
        out.append(Note("loop", {"state": self.state_name}))
        self._finish("error", out)

    def _took(self, state: State, step: Step, visit: int, out: list[Action]) -> None:
        """Keep what a route state decided: its outputs and variables (stored before the next
        prompt), and any request queued for HQ."""
        out.append(Note("route", {**(step.note or {"state": state.name}), "event": step.event}))
        if step.outputs is not None:
            self.widgets[state.name] = dict(step.outputs)
            self._results_dirty = True
        if step.variables:
            self.variables.update(step.variables)
            self._results_dirty = True
        if step.request is not None:
            widget, body = step.request
            out.append(QueueRequest(RequestInput(state.name, visit, widget,
                                                 self.call.scrub(dict(body)))))

    def _enter_question(self, state: State, out: list[Action]) -> None:
        self._digits = self._raw = ""
        self._attempts, self._invalid, self._timeouts = 1, 0, 0
        if self._typeahead:
            self._mode = _LISTENING
            while self._typeahead and self._state is state and not self.finished:
                self._key(self._typeahead.popleft(), out)
            return
        self._mode = _PROMPTING
        self._play(self._prompt_of(state), out)

    def _after_prompt(self, out: list[Action]) -> None:
        state = self._state
        if self._mode == _ENDING:
            self._finish(self._final or "complete", out)
        elif self._mode == _PROMPTING and state is not None:
            kind = KINDS[state.kind]
            if kind.behaviour == "say":
                self._goto(state.target(AUDIO_COMPLETE)[1], out)
            elif kind.behaviour == "record":
                self._start_recording(state, out)
            else:
                self._mode = _LISTENING
                self._start_timer(kind.gather_spec(state, self.survey.settings).timeout_s, out)

    # -- events ------------------------------------------------------------------------
    def _prompt_ended(self, play_id: int, out: list[Action]) -> None:
        if play_id != self._playing:
            return  # a prompt already stopped or replaced
        self._playing = None
        self._after_prompt(out)

    def _key(self, digit: str, out: list[Action]) -> None:
        state = self._state
        if digit not in KEYS or state is None \
                or self._mode in (_ENDING, _DONE, _IDLE, _CONNECTING):
            out.append(Note("key_ignored", {"key": digit if digit in KEYS else "?"}))
            return
        kind = KINDS[state.kind]
        if kind.behaviour == "record":  # the line ends a message on its finish keys
            out.append(Note("key_ignored", {"key": digit, "state": state.name}))
            return
        if kind.behaviour == "say":
            if state.props.get("barge_in") and self._mode == _PROMPTING:
                self._stop_prompt(out)
                self._typeahead.append(digit)
                self._goto(state.target(AUDIO_COMPLETE)[1], out)
            else:
                out.append(Note("key_ignored", {"key": digit, "state": state.name}))
            return
        swallow, self._swallow = self._swallow, ""
        if digit == swallow and not self._raw:
            out.append(Note("finish_key_swallowed", {"state": state.name}))
            return
        if self._mode == _PROMPTING:
            if not self.survey.settings.barge_in:
                out.append(Note("key_ignored", {"key": digit, "state": state.name}))
                return
            self._stop_prompt(out)
        self._mode = _LISTENING
        opt_out = self.survey.settings.opt_out_key
        if opt_out and digit == opt_out and not self._raw:
            out.append(Note("opt_out", {"state": state.name}))
            self._end_with("refused", "refused", out)
            return
        spec = kind.gather_spec(state, self.survey.settings)
        self._raw += digit
        if spec.finish_key and digit == spec.finish_key:
            self._evaluate(state, out)
            return
        self._digits += digit
        if spec.num_digits and len(self._digits) >= spec.num_digits:
            self._evaluate(state, out)
            # the caller may still press the finish key out of habit, whether the entry was
            # taken or refused: it is no new entry
            if spec.finish_key and not self.finished:
                self._swallow = spec.finish_key
            return
        self._start_timer(spec.timeout_s, out)

    def _timeout(self, timer_id: int, out: list[Action]) -> None:
        if timer_id != self._timer_id or not self._timer_running:
            return
        if self._mode == _CONNECTING:
            self._timer_running = False
            out.append(Note("transfer_lost", {"state": self.state_name}))
            self._connect_ended(ConnectEnded(self._connect_id, "failed"), out)
            return
        if self._mode == _RECORDING:
            self._timer_running = False
            out.append(Note("recording_lost", {"state": self.state_name}))
            out.append(StopRecording())
            self._recording_ended(RecordingEnded(self._record_id, None, 0.0, "failed"), out)
            return
        if self._mode != _LISTENING:
            return
        self._timer_running = False
        state = self._state
        assert state is not None
        if self._raw:
            self._evaluate(state, out)
            return
        self._timeouts += 1
        out.append(Note("silence", {"state": state.name, "attempt": self._attempts}))
        self._retry(state, TIMEOUT, out)

    def _hung_up(self, out: list[Action]) -> None:
        self._playing = None
        if self._mode == _ENDING and self._final:
            self._finish(self._final, out, hang_up=False)
            return
        minimum = self.survey.settings.partial_min_answers
        self._finish("partial" if self.answered >= minimum and self.answered else "breakoff",
                     out, hang_up=False)

    # -- transfers ---------------------------------------------------------------------
    def _start_connect(self, state: State, step: Step, out: list[Action]) -> None:
        assert step.connect is not None
        number, timeout_s = step.connect
        self._typeahead.clear()
        self._connect_id += 1
        self._mode = _CONNECTING
        out.append(Note("transferring", {"state": state.name}))  # never the number
        out.append(Connect(self._connect_id, state.name, number, timeout_s))
        self._start_timer(timeout_s + CONNECT_GRACE_S, out)

    def _connect_ended(self, event: ConnectEnded, out: list[Action]) -> None:
        state = self._state
        if self._mode != _CONNECTING or event.connect_id != self._connect_id or state is None:
            return  # a transfer already given up
        self._cancel_timer(out)
        target_event, outputs = CONNECT.ended(event.status)
        self.widgets[state.name] = outputs
        self._results_dirty = True
        detail = {"state": state.name, "widget": CONNECT.widget, "status": event.status}
        if target_event is None:  # the caller is with the number now: the box has left
            out.append(Note("transferred", detail))
            self._finish(self._final or self._closing(None), out)
            return
        out.append(Note("route", {**detail, "event": target_event}))
        self._goto(state.target(target_event)[1], out)

    # -- recordings --------------------------------------------------------------------
    def _beep(self, state: State) -> tuple[Utterance, ...]:
        if not RECORD.spec(state.props).beep:
            return ()
        return (Utterance(f"{state.name}.beep", self.language, "beep", BEEP),)

    def _start_recording(self, state: State, out: list[Action]) -> None:
        spec = RECORD.spec(state.props)
        self._record_id += 1
        self._mode = _RECORDING
        out.append(Record(self._record_id, state.name, self._record_visit, spec.max_s,
                          spec.silence_s, spec.finish_keys))
        self._start_timer(spec.max_s + RECORD_GRACE_S, out)

    def _recording_ended(self, event: RecordingEnded, out: list[Action]) -> None:
        state = self._state
        if self._mode != _RECORDING or event.record_id != self._record_id or state is None:
            return  # a recording already given up
        self._cancel_timer(out)
        outcome = RECORD.outcome(state.props, event.reference, event.seconds, event.reason,
                                 event.key)
        self.widgets[state.name] = dict(outcome.outputs)
        self._results_dirty = True
        detail: dict[str, Any] = {"state": state.name, "widget": RECORD.widget,
                                  "reason": event.reason, "seconds": round(event.seconds, 1)}
        if event.reason == "unsupported":
            detail["record_unavailable"] = outcome.note
        elif outcome.note:
            detail["problem"] = outcome.note
        if outcome.keep:
            assert event.reference is not None
            self._silent = False
            self.answered += 1
            self.answers[state.name] = event.reference
            out.append(RecordAnswer(
                AnswerInput(state.name, event.key, event.reference, 1, 0, 0), self.language,
                audio=AudioInput(event.reference, event.seconds)))
        elif outcome.silent:
            self._silences += 1
            self._silent = True
        if outcome.event is None:  # hung up without a word: no message, just a hang-up
            out.append(Note("route", {**detail, "event": "hangup"}))
            self._hung_up(out)
            return
        out.append(Note("route", {**detail, "event": outcome.event}))
        self._goto(state.target(outcome.event)[1], out)

    def _evaluate(self, state: State, out: list[Action]) -> None:
        kind = KINDS[state.kind]
        result = kind.interpret(state, self._digits)
        if result is None:
            self._invalid += 1
            out.append(Note("invalid", {"state": state.name, "keys": self._raw}))
            self._retry(state, NO_MATCH, out)
            return
        self._cancel_timer(out)
        self._silent = False
        sets_language = state.kind == "language"
        if sets_language:
            self.language = result.value
        else:
            self.answered += 1
        self.answers[state.name] = result.value
        finished = self._raw[len(self._digits):]
        self.widgets[state.name] = {"Digits": self._digits, "FinishedOnKey": finished}
        # A call with stored results gets a final version with every answer's Digits (stored
        # at the end: one write, not one per question).
        self._results_final_due = self._results_version > 0
        out.append(RecordAnswer(
            AnswerInput(state.name, self._raw, result.value, self._attempts, self._invalid,
                        self._timeouts),
            self.language, sets_language,
        ))
        if state.props.get("callback") and result.value == "yes":
            out.append(RequestCallback(state.name))
        self._goto(state.target(result.event)[1], out)

    def _retry(self, state: State, reason: str, out: list[Action]) -> None:
        self._digits = self._raw = ""
        self._typeahead.clear()
        limit = state.props.get("max_attempts", self.survey.settings.max_attempts)
        if self._attempts >= limit:
            if reason == TIMEOUT:
                self._silences += 1
                self._silent = self._silent or not state.props.get("optional")
            has_transition, target = state.target(reason)
            if has_transition:
                out.append(Note("gave_up", {"state": state.name, "reason": reason}))
                self._goto(target, out)
            else:
                self._end_with("no_input", "no-input", out)
            return
        self._attempts += 1
        self._mode = _PROMPTING
        sorry = self._sorry(state) if reason == NO_MATCH else ()
        self._play(sorry + self._prompt_of(state), out)

    def _sorry(self, state: State) -> tuple[Utterance, ...]:
        """The question's own "not a valid answer" (XLSForm's constraint_message), else the
        survey's."""
        own = state.props.get("sorry")
        if own:
            utterance = self._utterance(f"{state.name}.sorry", own, self.language)
            return (utterance,) if utterance else ()
        return self.message("sorry")


def _declared(wanted: str, languages: tuple[str, ...]) -> str | None:
    """``es-MX`` -> ``es-MX`` when declared, else ``es`` when that is."""
    if wanted in languages:
        return wanted
    primary = wanted.split("-")[0].split("_")[0].lower()
    return primary if primary in languages else None
