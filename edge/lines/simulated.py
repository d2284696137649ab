"""A simulated line: callers that follow a script, for the demo and the tests.

It goes through the same server code path as the SIP and modem lines. A caller's script says,
per prompt it hears, what it does: press keys, stay silent, hang up, or speak (a message for a
recording). Time runs ``speed`` times faster than real time (prompts, key delays, speech); the
server is told the same factor. Recordings go through the shared recorder
(edge.lines._recording): real files, real silence detection.
"""

from __future__ import annotations

import json
import threading
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.config import Key, Section

from ._base import BaseCall
from ._call import Call, CallerId, CallGone, DialResult, LineStatus
from ._events import KeyPressed, TransferFinished
from ._kind import LineContext, LineKind
from ._prompt import Utterance
from ._recording import RATE, Recorder
from ._scheduler import Scheduler, TimedPlayback
from ._speech import Speech

HANGUP = "HANGUP"
SPEAK = "SPEAK:"
# Speech reaches the recorder in slices of this many (simulated) seconds, each on its own
# scheduler tick: a few ticks a second of the line's time, whatever ``speed`` is.
SPEECH_SLICE_S = 0.1
SECONDS_PER_CHARACTER = 0.07  # about 14 characters a second: a slow, clear voice


def utterance_seconds(utterance: Utterance) -> float:
    if utterance.audio_available():
        assert utterance.audio is not None
        try:
            with wave.open(str(utterance.audio)) as wav:
                return wav.getnframes() / float(wav.getframerate())
        except (wave.Error, EOFError, OSError):
            pass
    return max(0.3, len(utterance.text) * SECONDS_PER_CHARACTER)


@dataclass
class CallerScript:
    """What a simulated caller does.

    ``responses`` maps a prompt key ("consent.prompt") to the answers given on each hearing of
    it, in order: keys to press ("12#"), "" for silence, ``HANGUP``, or speech for the next
    recording: ``"SPEAK:3.5"`` (3.5 s of speech-like sound, then silence) or
    ``"SPEAK:path/to/message.wav"`` (8 kHz 16-bit mono), optionally then keys or a hang-up
    once the speech is over: ``"SPEAK:3.5;#"``, ``"SPEAK:10;HANGUP"``. The response to a
    playlist is looked up by its last prompt (after "Sorry" comes the question again).
    ``key_delay_s``: from the start of the prompt to the first key (barge-in when shorter than
    the prompt). ``hang_up_before_answer``: the caller gives up while it rings.
    """

    responses: dict[str, list[str]] = field(default_factory=dict)
    key_delay_s: float = 0.4
    key_gap_s: float = 0.15
    hang_up_before_answer: bool = False

    def __post_init__(self) -> None:
        for answers in self.responses.values():  # a mistyped SPEAK fails here, not mid-call
            for response in answers:
                if response.startswith(SPEAK):
                    Speech.parse(response[len(SPEAK):], HANGUP)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallerScript:
        return cls(
            responses={k: list(v) for k, v in data.get("responses", {}).items()},
            key_delay_s=float(data.get("key_delay_s", 0.4)),
            key_gap_s=float(data.get("key_gap_s", 0.15)),
            hang_up_before_answer=bool(data.get("hang_up_before_answer", False)),
        )


@dataclass(frozen=True)
class SimulatedPhone:
    """How a number the box dials behaves: ``answers`` after ``ring_s`` and then follows
    ``script``; or ``busy``, ``no-answer`` (rings forever), ``rejected``, ``unreachable``."""

    behaviour: str = "answers"
    ring_s: float = 3.0
    script: CallerScript = field(default_factory=CallerScript)


class SimulatedCall(BaseCall):
    def __init__(self, line: SimulatedLine, caller: CallerId, script: CallerScript) -> None:
        super().__init__(line.name, caller)
        self._line = line
        self.script = script
        self._lock = threading.Lock()
        self._playback = TimedPlayback(line.scheduler, self.post)
        self._pending: list[int] = []  # scheduled caller actions
        self._remaining = {k: list(v) for k, v in script.responses.items()}
        self.answered = False
        self.rejected = False  # declined unanswered (busy)
        self.ended_by: str | None = None  # "box" or "caller"
        self.played: list[tuple[int, tuple[Utterance, ...]]] = []
        self.keys_sent: list[str] = []
        self._speech: Speech | None = None  # what the caller says at the next recording
        self.recorder: Recorder | None = None
        self.transferred_to: list[str] = []  # numbers the box asked to hand the caller to

    # -- Call interface ----------------------------------------------------------------
    def answer(self) -> None:
        with self._lock:
            if self.ended_by or self.script.hang_up_before_answer:
                self.ended_by = self.ended_by or "caller"
                raise CallGone("the caller hung up before the call was answered")
            self.answered = True

    def play(self, play_id: int, utterances: Sequence[Utterance]) -> None:
        utterances = tuple(utterances)
        with self._lock:
            if self.ended_by:
                return
            self.played.append((play_id, utterances))
            seconds = sum(utterance_seconds(u) for u in utterances) / self._line.speed
            self._playback.start(play_id, seconds)
        if utterances:
            self._respond(utterances[-1].key)

    def stop_playback(self) -> None:
        self._playback.stop()

    def reject(self) -> None:
        with self._lock:
            if self.answered:
                raise RuntimeError("reject() after answer(): the caller would have paid")
            self.rejected = True
        self.hang_up()

    def hang_up(self) -> None:
        with self._lock:
            if self.ended_by is None:
                self.ended_by = "box"
            self._cancel_all_locked()
        if self.recorder is not None:
            self.recorder.stop("stopped")
        self._line.call_ended(self)

    def transfer(self, transfer_id: int, number: str, timeout_s: float) -> None:
        """As a gateway would: the phone for ``number`` (``phones``) decides; an answer
        connects the caller and the line leaves the call. Time runs ``speed`` times faster."""
        if not self._line.transfers:
            super().transfer(transfer_id, number, timeout_s)
            return
        phone = self._line.phones(number)
        self.transferred_to.append(number)
        if phone.behaviour == "answers" and phone.ring_s <= timeout_s:
            status, seconds = "completed", phone.ring_s
        elif phone.behaviour in ("no-answer", "answers"):
            status, seconds = "no-answer", timeout_s
        else:
            status, seconds = ("busy" if phone.behaviour == "busy" else "failed"), 0.5

        def report() -> None:
            self.post(TransferFinished(transfer_id, status, "simulated"))
            if status == "completed":  # the caller talks to the number now, not the box
                self.hang_up()

        self._schedule(seconds / self._line.speed, report)

    # -- recording (BaseCall's hooks) ----------------------------------------------------
    def _start_recording(self, record_id: int, path: Path, max_s: float, silence_s: float,
                         finish_keys: str) -> None:
        if not self._line.records:  # a line without recording (a modem that cannot)
            super()._start_recording(record_id, path, max_s, silence_s, finish_keys)
            return
        with self._lock:
            speech, self._speech = self._speech or Speech.silence(), None
            self.recorder = Recorder(record_id, path, max_s, silence_s, self.post_recording)
        self._speak(self.recorder, speech, 0)

    def _stop_recording(self, reason: str, key: str) -> None:
        if self.recorder is not None:
            self.recorder.stop(reason, key)

    def _speak(self, recorder: Recorder, speech: Speech, tick: int) -> None:
        """One slice of the caller's sound into the recorder (silence once the speech is
        over), then what the caller does after speaking, then the next slice."""
        if recorder.ended or self.ended_by:
            return
        size = int(SPEECH_SLICE_S * RATE) * 2
        start = tick * size
        piece = speech.pcm[start:start + size]
        recorder.feed(piece + bytes(size - len(piece)))
        if speech.then and tick == max(0, len(speech.pcm) - 1) // size:  # speech over
            if speech.then == HANGUP:
                self.remote_hang_up()
                return
            self.press(speech.then)
        self._schedule(SPEECH_SLICE_S / self._line.speed,
                       lambda: self._speak(recorder, speech, tick + 1))

    # -- the caller's side -------------------------------------------------------------
    def press(self, keys: str) -> None:
        with self._lock:
            if self.ended_by:
                return
            self.keys_sent.extend(keys)
        for key in keys:
            self.post(KeyPressed(key))

    def remote_hang_up(self) -> None:
        with self._lock:
            if self.ended_by:
                return
            self.ended_by = "caller"
            self._cancel_all_locked()
        self.post_hangup("remote")
        self._line.call_ended(self)

    # -- internals ---------------------------------------------------------------------
    def _respond(self, prompt_key: str) -> None:
        answers = self._remaining.get(prompt_key)
        if not answers:
            return
        response = answers.pop(0)
        speed = self._line.speed
        if response.startswith(SPEAK):
            with self._lock:
                self._speech = Speech.parse(response[len(SPEAK):], HANGUP)
            return
        if response == HANGUP:
            self._schedule(self.script.key_delay_s / speed, self.remote_hang_up)
            return
        for i, key in enumerate(response):
            delay = (self.script.key_delay_s + i * self.script.key_gap_s) / speed
            self._schedule(delay, lambda k=key: self.press(k))

    def _schedule(self, seconds: float, fn: Callable[[], None]) -> None:
        with self._lock:
            self._pending.append(self._line.scheduler.after(seconds, fn))

    def _cancel_all_locked(self) -> None:
        self._playback.cancel()
        for handle in self._pending:
            self._line.scheduler.cancel(handle)
        self._pending.clear()


class SimulatedLine:
    """Implements :class:`edge.lines.Line`; ``place_call`` plays the caller's part."""

    def __init__(self, name: str = "sim", speed: float = 1.0,
                 phones: Callable[[str], SimulatedPhone] | None = None,
                 records: bool = True, transfers: bool = True) -> None:
        self._name = name
        self.speed = speed
        self.records = records  # False: a line that cannot record (its calls say so)
        self.transfers = transfers  # False: a line that cannot transfer (as a modem)
        # Who picks up when the box dials a number (default: a phone that answers, silent).
        self.phones = phones or (lambda _number: SimulatedPhone())
        self.calls_dialled = 0
        self.outbound_capacity = 1000  # a simulated trunk: [outbound] max_outbound limits
        self.on_ring = "answer"
        self.scheduler = Scheduler(f"line-{name}")
        self._on_call: Callable[[Call], None] | None = None
        self._active: set[SimulatedCall] = set()
        self._lock = threading.Lock()
        self.calls_placed = 0

    @property
    def name(self) -> str:
        return self._name

    def start(self, on_call: Callable[[Call], None]) -> None:
        self._on_call = on_call

    def stop(self) -> None:
        self._on_call = None

    def close(self) -> None:
        self.stop()
        self.scheduler.stop()

    def status(self) -> LineStatus:
        state = "ready" if self._on_call else "down"
        return LineStatus(self._name, "simulated", state, f"{len(self._active)} calls up",
                          {"calls_placed": self.calls_placed})

    def place_call(self, number: str | None, script: CallerScript,
                   withheld: bool = False) -> SimulatedCall:
        call = SimulatedCall(self, CallerId(number, withheld or number is None), script)
        on_call = self._on_call
        if on_call is None:
            raise RuntimeError(f"line {self._name} is not started")
        with self._lock:
            self._active.add(call)
            self.calls_placed += 1
        on_call(call)
        return call

    def dial(self, number: str, ring_timeout_s: float) -> DialResult:
        """Ring the simulated phone for ``number``; time runs ``speed`` times faster."""
        phone = self.phones(number)
        with self._lock:
            self.calls_dialled += 1
        if phone.behaviour in ("busy", "rejected", "unreachable"):
            return DialResult(phone.behaviour, detail="simulated")
        if phone.behaviour != "answers" or phone.ring_s > ring_timeout_s:
            time.sleep(ring_timeout_s / self.speed)
            return DialResult("no-answer", detail=f"rang {ring_timeout_s:g} s")
        time.sleep(phone.ring_s / self.speed)
        call = SimulatedCall(self, CallerId(number), phone.script)
        call.answered = True
        with self._lock:
            self._active.add(call)
        return DialResult("answered", call)

    def call_ended(self, call: SimulatedCall) -> None:
        with self._lock:
            self._active.discard(call)


# -- as a configured line kind (serve with [simulated]) ------------------------------------
SECTION = Section(
    "simulated",
    "A simulated line whose callers follow a script file (for trials without hardware).",
    (
        Key("enabled", bool, False, "Run the simulated line."),
        Key("calls_file", str, "", "JSON list of calls to place after start: "
            '[{"at_s": 0, "number": "+255...", "responses": {"consent.prompt": ["1"]}}]'),
        Key("speed", float, 1.0, "How many times faster than real time the callers act.",
            min=0.1, max=1000),
        Key("on_ring", str, "answer", "'answer' a ringing call, or 'callback': decline it once "
            "the caller id is known (the caller pays nothing) and call back ([outbound]).",
            choices=("answer", "callback")),
    ),
    optional=True,
)


class ScriptedSimulatedLine(SimulatedLine):
    """The configured form: places the calls of ``calls_file`` once started."""

    def __init__(self, name: str, speed: float, calls: list[dict[str, Any]]) -> None:
        super().__init__(name, speed)
        self._calls = calls

    def start(self, on_call: Callable[[Call], None]) -> None:
        super().start(on_call)
        for entry in self._calls:
            delay = float(entry.get("at_s", 0)) / self.speed
            script = CallerScript.from_json(entry)
            number = entry.get("number")
            self.scheduler.after(delay, lambda n=number, s=script: self._place(n, s))

    def _place(self, number: str | None, script: CallerScript) -> None:
        if self._on_call is not None:
            self.place_call(number, script)


def _create(settings: dict[str, Any], context: LineContext) -> ScriptedSimulatedLine:
    calls: list[dict[str, Any]] = []
    if settings["calls_file"]:
        path = Path(settings["calls_file"])
        if not path.is_absolute():
            path = Path(context.extras.get("config_dir", ".")) / path
        calls = json.loads(path.read_text(encoding="utf-8"))
    line = ScriptedSimulatedLine("sim", settings["speed"], calls)
    line.on_ring = settings["on_ring"]
    return line


KIND = LineKind("simulated", SECTION, _create, dials=True)
