"""One call through the module: the edge.lines.Call the server drives.

The server thread calls answer/play/stop_playback/next_event/hang_up; the port thread feeds
``_key``, ``_playback_done`` and ``_ended`` in the order the module reported them, so digits
and hang-ups reach ``next_event`` in that order too.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

from edge.lines import BaseCall, CallerId, CallGone, KeyPressed, PlaybackFinished, Utterance

from ._commands import MEDIUM_S, Command, Response
from ._profiles import tts_command
from ._ringing import RingingCheck

if TYPE_CHECKING:
    from ._line import ModemLine

log = logging.getLogger(__name__)


class ModemCall(BaseCall):
    """One call through the module (the Call protocol)."""

    def __init__(self, line: ModemLine, caller: CallerId) -> None:
        super().__init__(line.name, caller)
        self._line = line
        self._lock = threading.Lock()
        self.state = "ringing"  # ringing, answering, active, ended
        self._ringing = RingingCheck(line.settings.ringing_gone_s, time.monotonic())
        # Playback: the playlist in progress and one tag per TTS command the module accepted,
        # popped by each "done" URC (stopped ones too, so a late done never ends a new play).
        self._play_id: int | None = None
        self._playlist: deque[Utterance] = deque()
        self._generation = 0
        self._tags: deque[tuple[int, int]] = deque()  # (token, generation)
        self._tokens = itertools.count(1)

    # ---- server thread

    def answer(self) -> None:
        with self._lock:
            if self.state != "ringing":
                raise CallGone("the caller hung up before we answered")
            self.state = "answering"
        response = self._line.driver.execute(
            "ATA", timeout=20.0, finals=("NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE"))
        with self._lock:
            if response.ok and self.state == "answering":
                self.state = "active"
                return
            given_up = self.state == "ended"
            self.state = "ended"
        # Whatever ended it meanwhile (a report, the call list, no answer in time), the module
        # may have picked up: put it back on hook both ways, or the caller sits in silence,
        # paying, until they give up.
        self._on_hook(self._line.every_hangup)
        reason = "gone before the answer" if given_up else f"answer failed: {response.final}"
        self.post_hangup(reason)
        raise CallGone(reason)

    def play(self, play_id: int, utterances: Sequence[Utterance]) -> None:
        with self._lock:
            old = self._play_id
            self._generation += 1
            self._play_id = play_id
            self._playlist = deque(utterances)
            generation = self._generation
            active = self.state == "active"
        if old is not None:
            self.post(PlaybackFinished(old, interrupted=True))
            self._line.driver.submit(Command(self._line.profile.tts_stop))
        if not active:
            self._finish_play(generation, interrupted=True)
            return
        # On the port thread, after the stop just submitted: the FIFO keeps them in order.
        self._line.driver.call_later(0.0, lambda: self._next_utterance(generation))

    def stop_playback(self) -> None:
        with self._lock:
            play_id = self._play_id
            if play_id is None:
                return
            self._play_id = None
            self._playlist.clear()
            self._generation += 1
        self.post(PlaybackFinished(play_id, interrupted=True))
        self._line.driver.submit(Command(self._line.profile.tts_stop))

    def hang_up(self) -> None:
        with self._lock:
            if self.state == "ended":
                return
            self.state = "ended"
            self._play_id = None
            self._playlist.clear()
        self._on_hook((self._line.profile.hangup,))

    def reject(self) -> None:
        """Decline while it rings: hang up without ATA, so the caller hears busy and pays
        nothing. Safe on the line's own thread (the server declines from ``on_call``)."""
        with self._lock:
            state = self.state
            if state == "ringing":
                self.state = "ended"
        if state == "ended":
            return
        if state != "ringing":  # answered meanwhile: all that is left is to hang up
            self.hang_up()
            return
        log.info("modem: call declined unanswered")
        self._on_hook((self._line.profile.hangup,))

    def _on_hook(self, commands: Sequence[str]) -> None:
        """Hang the module up, then let the line forget the call: a RING or +CLIP the module
        sends before it has dropped the call belongs to this call, not to a new one."""
        driver = self._line.driver
        if not driver.on_port_thread:
            try:
                for text in commands:
                    driver.execute(text, timeout=MEDIUM_S)
            finally:
                self._line._call_finished(self)
            return
        # On the port thread (declined from the line's own callback): queue, never wait.
        for text in commands[:-1]:
            driver.submit(Command(text, timeout=MEDIUM_S))
        driver.submit(Command(commands[-1], timeout=MEDIUM_S,
                              on_done=lambda _response: self._line._call_finished(self)))

    # ---- port thread

    def _next_utterance(self, generation: int) -> None:
        with self._lock:
            if generation != self._generation or self.state != "active" or \
                    self._play_id is None:
                return
            play_id = self._play_id
            utterance = self._playlist.popleft() if self._playlist else None
            if utterance is None:
                self._play_id = None
        if utterance is None:
            self.post(PlaybackFinished(play_id))
            return
        command = tts_command(self._line.profile, utterance.text)
        token = next(self._tokens)

        def accepted(response: Response) -> None:
            if response.ok:
                self._tags.append((token, generation))
                # A module that never reports the end (some firmware) must not stall the
                # survey: give up waiting after a generous speaking time.
                guard = 5.0 + 0.15 * len(utterance.text)
                self._line.driver.call_later(guard, lambda: self._guard(token))
                return
            # No TTS (firmware without it, CME 903 outside a call): skip the prompt rather
            # than leave the survey waiting for a "done" that never comes.
            log.warning("modem: prompt %s not played (%s)", utterance.key, response.final)
            self._next_utterance(generation)

        self._line.driver.submit(Command(command, timeout=5.0, on_done=accepted))

    def _guard(self, token: int) -> None:
        for tag in list(self._tags):
            if tag[0] == token:
                self._tags.remove(tag)
                log.warning("modem: no end-of-prompt report; going on")
                self._next_utterance(tag[1])

    def _finish_play(self, generation: int, *, interrupted: bool) -> None:
        with self._lock:
            play_id = self._play_id if generation == self._generation else None
            self._play_id = None
            self._playlist.clear()
        if play_id is not None:
            self.post(PlaybackFinished(play_id, interrupted=interrupted))

    def _playback_done(self, source: str) -> None:
        if source != self._line.profile.tts_done or not self._tags:
            return
        _token, generation = self._tags.popleft()
        self._next_utterance(generation)

    def _rang(self, now: float) -> None:
        with self._lock:
            self._ringing.ring(now)

    def _listed(self, listed: bool, now: float) -> None:
        """An AT+CLCC read: ``listed`` when the module listed a call that is not over."""
        with self._lock:
            if self.state in ("ringing", "answering"):
                if listed:
                    self._ringing.listed()
                    return
                if not self._ringing.empty(now):
                    return
                reason = (f"lost (not listed by AT+CLCC and no RING for "
                          f"{self._ringing.confirm_s:.0f} s)")
            elif self.state == "active" and not listed:
                reason = "lost (no call listed by AT+CLCC)"
            else:
                return
        self._ended(reason)

    def _key(self, digit: str) -> None:
        with self._lock:
            # "answering" too: the module may report a key right after ATA's OK, before the
            # server thread has seen that OK.
            if self.state not in ("answering", "active"):
                return
        self.post(KeyPressed(digit))

    def _ended(self, reason: str) -> None:
        if self.hung_up_remotely:
            return
        with self._lock:
            self.state = "ended"
            self._play_id = None
            self._playlist.clear()
        self._line._call_finished(self)
        self.post_hangup(reason)
