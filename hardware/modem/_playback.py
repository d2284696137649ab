"""Which prompt the module is speaking, so that an end-of-speech report (``+CTTS: 0``) is
matched to that prompt and to nothing else. Pure: every reading of the clock is passed in.

A module speaks one prompt at a time and takes the next only after the last has ended or been
stopped, so "the prompt it accepted last" is the one a report is about: matching goes by that
sequence, never by counting reports against a queue (one lost report would then shift every
later match, and each prompt would wait out the fallback). A report that arrives with nothing
playing is the late report of a prompt already given up on (learned from) or the echo of a stop
(ignored).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from ._speech import SpeechTiming


@dataclass(eq=False)
class Prompt:
    seq: int
    generation: int  # the play() it belongs to
    text: str
    kind: str  # "ascii" or "ucs2" (TTS), "file" (a recording from the module's storage)
    started: float | None = None  # when the module accepted it
    retried: bool = False
    seconds: float | None = None  # a recording's length; TTS prompts are estimated
    file: Any = None  # what the line plays for a recording (a _prompts.Playable)

    @property
    def via(self) -> str:
        """How it sounds: "tts" or "file" (each has its own end report and stop)."""
        return "file" if self.file is not None else "tts"


@dataclass(frozen=True)
class Ended:
    prompt: Prompt
    how: str  # "reported", "assumed" (no report: wait over, or a later prompt accepted), "stopped"
    at: float


class PromptTracker:
    def __init__(self, timing: SpeechTiming) -> None:
        self.timing = timing
        self.pending: Prompt | None = None  # its TTS command is on its way; no answer yet
        self.playing: Prompt | None = None  # accepted; its end not known yet
        self.last: Ended | None = None
        self._late_seen = False  # the last "assumed" prompt's report came after all
        self._seq = itertools.count(1)

    def submit(self, generation: int, text: str, kind: str, *, seconds: float | None = None,
               file: Any = None) -> Prompt:
        prompt = Prompt(next(self._seq), generation, text, kind, seconds=seconds, file=file)
        self.pending = prompt
        return prompt

    def accepted(self, prompt: Prompt, now: float) -> Ended | None:
        """The module took ``prompt``. One still marked playing is over (the module would have
        refused a second), its report lost: returned so the caller can go on from it."""
        self.pending = None
        previous, self.playing = self.playing, prompt
        prompt.started = now
        return self._assumed(previous, now) if previous is not None else None

    def refused(self, prompt: Prompt) -> None:
        if self.pending is prompt:
            self.pending = None

    def retry_after_refusal(self, prompt: Prompt) -> bool:
        """A refused prompt is worth a second try, after a stop, when the prompt before it
        was only assumed over: the module may still be speaking it (it refuses while busy)."""
        if prompt.retried or self.last is None or self.last.how != "assumed" \
                or self._late_seen:
            return False
        prompt.retried = True
        self.pending = prompt
        self.timing.too_short()
        return True

    def report(self, now: float, via: str = "tts") -> Ended | None:
        """An end report (``via``: "tts" for +CTTS/+QWTTS, "file" for +CREC/+QPSND/...): the
        prompt it ends, or None when it ends nothing we wait for. A report of the other kind
        than the prompt playing is about an earlier prompt, never this one."""
        prompt = self.playing
        if prompt is None or prompt.via != via or self._late_for_previous(prompt, now):
            self._late_report(now, via)
            return None
        self.playing = None
        self.timing.heard_report(prompt.kind)
        assert prompt.started is not None
        if prompt.seconds is None:  # a recording's length is known: nothing to learn
            self.timing.learn(prompt.text, now - prompt.started)
        return self._end(prompt, "reported", now)

    def expire(self, prompt: Prompt, now: float) -> Ended | None:
        """The wait for ``prompt``'s report is over: if it is still the one playing, it is
        assumed over."""
        if self.playing is not prompt:
            return None
        self.playing = None
        return self._assumed(prompt, now)

    def wait_s(self, prompt: Prompt) -> float:
        return self.timing.wait_s(prompt.text, prompt.kind, prompt.seconds)

    def estimate(self, prompt: Prompt) -> float:
        return prompt.seconds if prompt.seconds is not None else \
            self.timing.estimate(prompt.text)

    def stop(self, now: float) -> bool:
        """The prompt playing is no longer wanted. True when a stop must go to the module
        (the stop of that prompt's ``via``); never for a prompt that, by its length, is
        already over (its report was lost). Wrong about that, the next prompt is refused as
        busy and sent again after a stop (``retry_after_refusal``): only the end of a prompt
        the caller chose to cut is lost."""
        prompt = self.playing
        if prompt is None:
            return False
        self.playing = None
        assert prompt.started is not None
        if now - prompt.started >= self.estimate(prompt):
            self._assumed(prompt, now)
            return False
        self._end(prompt, "stopped", now)
        return True

    # ---- inside

    def _assumed(self, prompt: Prompt, now: float) -> Ended:
        self.timing.heard_nothing(prompt.kind)
        return self._end(prompt, "assumed", now)

    def _end(self, prompt: Prompt, how: str, now: float) -> Ended:
        self.last = Ended(prompt, how, now)
        self._late_seen = False
        return self.last

    def _late_for_previous(self, prompt: Prompt, now: float) -> bool:
        # Just after a prompt assumed over, a report too soon for the new one is the old
        # one's, late: it must not end the new prompt at its start.
        last = self.last
        assert prompt.started is not None
        return (last is not None and last.how == "assumed" and not self._late_seen
                and last.prompt.via == prompt.via
                and now - prompt.started < 0.3 * self.estimate(prompt))

    def _late_report(self, now: float, via: str = "tts") -> None:
        last = self.last
        if last is None or last.how != "assumed" or self._late_seen \
                or last.prompt.via != via:
            return  # a stop's echo, or a duplicate
        self._late_seen = True
        self.timing.heard_report(last.prompt.kind)  # it does report, only late
        if last.prompt.started is not None and last.prompt.seconds is None:
            self.timing.learn(last.prompt.text, now - last.prompt.started)
