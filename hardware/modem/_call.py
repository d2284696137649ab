"""One call through the module: the edge.lines.Call the server drives.

The server thread calls answer/play/stop_playback/next_event/hang_up; the port thread feeds
``_key``, ``_playback_done`` and ``_ended`` in the order the module reported them, so digits
and hang-ups reach ``next_event`` in that order too. Prompts are sent, matched to their end
reports and stopped on the port thread only (``_pump``); ``play``/``stop_playback`` change the
playlist and ask it to run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from edge.lines import (
    BaseCall,
    CallerId,
    CallGone,
    KeyPressed,
    PlaybackFinished,
    TransferFinished,
    Utterance,
)

from ._commands import MEDIUM_S, Command, Response
from ._driver import Driver
from ._playback import Prompt, PromptTracker
from ._profiles import Profile, file_command, report_via, stop_command, tts_command, tts_kind
from ._prompts import Playable
from ._recorder import ModuleRecording, fetch_s
from ._ringing import RingingCheck
from ._settings import ModemSettings
from ._transfer import Outcome


class CallHost(Protocol):
    """What a call needs of the line it is on (``ModemLine``): the module's driver and
    profile, the settings, the recorded prompts it holds, and being told when the call and
    its recordings end. Declared here so the call does not import the line."""

    driver: Driver
    profile: Profile
    settings: ModemSettings

    @property
    def name(self) -> str: ...

    @property
    def every_hangup(self) -> tuple[str, ...]: ...

    def recording(self, utterance: Utterance) -> Playable | None: ...

    def recording_refused(self, playable: Playable, why: str) -> None: ...

    def recording_begun(self, recording: ModuleRecording) -> None: ...

    def recording_over(self, recording: ModuleRecording) -> None: ...

    def call_finished(self, call: ModemCall) -> None: ...

    def transfer(self, call: ModemCall, number: str, ring_timeout_s: float) -> Outcome: ...

log = logging.getLogger(__name__)

# A message that takes longer than this on the wire may miss the survey's wait for it.
WIRE_WARN_S = 25.0


class ModemCall(BaseCall):
    """One call through the module (the Call protocol). ``outbound``: a call the line placed
    (``ModemLine.dial``): it starts ``dialling`` and is handed over once answered."""

    def __init__(self, line: CallHost, caller: CallerId, *, outbound: bool = False) -> None:
        super().__init__(line.name, caller)
        self._line = line
        self._lock = threading.Lock()
        self.outbound = outbound
        # ringing, answering, active, transferring (the caller held: see _transfer), ended
        self.state = "dialling" if outbound else "ringing"
        self._ringing = RingingCheck(line.settings.ringing_gone_s, time.monotonic())
        # Playback: the playlist in progress (guarded by _lock), and which prompt the module
        # is speaking (port thread only).
        self._play_id: int | None = None
        self._playlist: deque[Utterance] = deque()
        self._generation = 0
        self._prompts = PromptTracker(line.speech)
        self._recording_job: ModuleRecording | None = None  # the answer being recorded

    # ---- server thread

    def answer(self) -> None:
        if self.outbound:
            return  # answered by the called party already (DialResult's contract)
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
        if not active:
            self._finish_play(generation, interrupted=True)
            return
        self._line.driver.call_later(0.0, self._pump)

    def stop_playback(self) -> None:
        with self._lock:
            play_id = self._play_id
            if play_id is None:
                return
            self._play_id = None
            self._playlist.clear()
            self._generation += 1
        self.post(PlaybackFinished(play_id, interrupted=True))
        self._line.driver.call_later(0.0, self._pump)

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
                self._line.call_finished(self)
            return
        # On the port thread (declined from the line's own callback): queue, never wait.
        for text in commands[:-1]:
            driver.submit(Command(text, timeout=MEDIUM_S))
        driver.submit(Command(commands[-1], timeout=MEDIUM_S,
                              on_done=lambda _response: self._line.call_finished(self)))

    # ---- handing the caller over (see _transfer)

    def transfer(self, transfer_id: int, number: str, timeout_s: float) -> None:
        if not self._line.settings.transfers:
            self.post(TransferFinished(transfer_id, "unsupported",
                                       "transfers are off ([modem] transfers = false)"))
            return
        with self._lock:
            if self.state != "active":
                self.post(TransferFinished(transfer_id, "failed", "the call is not up"))
                return
            self.state = "transferring"
            self._play_id = None
            self._playlist.clear()
            self._generation += 1
        threading.Thread(target=self._transfer, args=(transfer_id, number, timeout_s),
                         name=f"{self.line_name}-transfer", daemon=True).start()

    def _transfer(self, transfer_id: int, number: str, timeout_s: float) -> None:
        try:
            outcome = self._line.transfer(self, number, timeout_s)
        except Exception as exc:  # the module went away mid-way: the call is likely over
            log.exception("modem: transfer failed")
            outcome = Outcome("failed", f"transfer failed: {exc}")
        with self._lock:
            if self.state == "transferring":
                self.state = "active"
        self.post(TransferFinished(transfer_id, outcome.status, outcome.detail))
        if outcome.status == "completed":
            self._ended("transferred")  # the caller talks to the number now, not the box
        elif outcome.caller_gone:
            self._ended("remote")

    # ---- recorded answers (BaseCall's hooks; see _recorder)

    def _start_recording(self, record_id: int, path: Path, max_s: float, silence_s: float,
                         finish_keys: str) -> None:
        spec = self._line.profile.recording
        if spec is None:
            super()._start_recording(record_id, path, max_s, silence_s, finish_keys)
            return
        baud = self._line.settings.baud
        # After a hang-up the server waits for the message while it is read back over the
        # port: as long as the longest this one can be may take (generously).
        self.RECORDING_GRACE_S = max(BaseCall.RECORDING_GRACE_S, fetch_s(spec, max_s, baud))
        wire_s = spec.bytes_per_s * max_s * 10 / baud
        if wire_s > WIRE_WARN_S:
            # The survey gives a message that runs to its max length 30 s after it to arrive
            # (the engine's guard); over a UART at this baud a long one can miss that.
            log.warning("modem: a %.0f s message takes %.0f s to read back at %d baud; "
                        "consider a shorter max_length", max_s, wire_s, baud)
        if silence_s:
            log.info("modem: the module cannot stop on silence; the message ends on a "
                     "finish key, at %.0f s or on hang-up", max_s)
        recording = ModuleRecording(self._line.driver, spec, record_id, path, max_s,
                                    baud=baud, report=self.post_recording,
                                    done=self._line.recording_over)
        with self._lock:
            self._recording_job = recording
        self._line.recording_begun(recording)
        recording.start()

    def _stop_recording(self, reason: str, key: str) -> None:
        with self._lock:
            recording = self._recording_job
        if recording is not None:
            recording.stop(reason, key)

    def _recording_stopped(self, source: str, detail: str) -> None:
        """Port thread: the module says a recording stopped (by itself, or after our stop)."""
        spec = self._line.profile.recording
        with self._lock:
            recording = self._recording_job
        if recording is not None and spec is not None and source in spec.stopped:
            recording.module_stopped(detail)

    # ---- port thread

    def _pump(self) -> None:
        """Bring the module in line with the playlist: stop a prompt no longer wanted (only
        if it can still be sounding), start the next one, report a playlist done."""
        prompts = self._prompts
        if prompts.pending is not None:
            return  # its answer comes first; it calls back here
        with self._lock:
            generation, active = self._generation, self.state == "active"
        playing = prompts.playing
        if playing is not None:
            if playing.generation == generation and active:
                return  # speaking what is wanted: wait for its end
            if prompts.stop(time.monotonic()):
                self._line.driver.submit(Command(stop_command(self._line.profile,
                                                              playing.via)))
        if not active:
            return
        with self._lock:
            if generation != self._generation or self._play_id is None:
                return
            utterance = self._playlist.popleft() if self._playlist else None
            play_id = self._play_id
            if utterance is None:
                self._play_id = None
        if utterance is None:
            self.post(PlaybackFinished(play_id))
            return
        # The recording when the module holds it, else the text through TTS.
        playable = self._line.recording(utterance)
        if playable is not None:
            prompt = prompts.submit(generation, utterance.text, "file",
                                    seconds=playable.seconds, file=playable)
        else:
            prompt = self._spoken(generation, utterance.text)
        self._send(prompt, utterance.key)

    def _spoken(self, generation: int, text: str) -> Prompt:
        return self._prompts.submit(generation, text, tts_kind(self._line.profile, text))

    def _send(self, prompt: Prompt, key: str) -> None:
        profile = self._line.profile
        command = file_command(profile, prompt.file.path) if prompt.file is not None \
            else tts_command(profile, prompt.text)
        self._line.driver.submit(Command(command, timeout=5.0, on_done=lambda response: (
            self._answered(prompt, key, response))))

    def _answered(self, prompt: Prompt, key: str, response: Response) -> None:
        prompts = self._prompts
        if response.ok:
            if prompts.accepted(prompt, time.monotonic()) is not None:
                log.info("modem: an end-of-prompt report was lost; back in step")
            self._line.driver.call_later(prompts.wait_s(prompt), lambda: self._expired(prompt))
            self._pump()  # replaced meanwhile: stop it now
            return
        prompts.refused(prompt)
        refused = not response.timed_out and response.final != "CANCELLED"
        if refused and prompts.retry_after_refusal(prompt):
            # Busy (ERROR, or a CME code with AT+CMEE=1): the prompt before, assumed over, may
            # still be sounding. Stop it, try once more.
            assert prompts.last is not None
            self._line.driver.submit(Command(stop_command(self._line.profile,
                                                          prompts.last.prompt.via)))
            self._send(prompt, key)
            return
        if prompt.file is not None:
            # A recording the module would not play (gone from its storage, or refused): this
            # prompt is spoken instead, and the file is uploaded again at the next sync.
            if refused:
                self._line.recording_refused(prompt.file, response.final)
            if prompt.text.strip():
                self._send(self._spoken(prompt.generation, prompt.text), key)
                return
        # No TTS (firmware without it, CME 903 outside a call): skip the prompt rather than
        # leave the survey waiting for an end that never comes.
        log.warning("modem: prompt %s not played (%s)", key, response.final)
        self._pump()

    def _expired(self, prompt: Prompt) -> None:
        if self._prompts.expire(prompt, time.monotonic()) is None:
            return
        if self._prompts.timing.reports(prompt.kind):
            log.warning("modem: no end-of-prompt report; going on")
        self._pump()

    def _finish_play(self, generation: int, *, interrupted: bool) -> None:
        with self._lock:
            play_id = self._play_id if generation == self._generation else None
            self._play_id = None
            self._playlist.clear()
        if play_id is not None:
            self.post(PlaybackFinished(play_id, interrupted=interrupted))

    def _playback_done(self, source: str) -> None:
        via = report_via(self._line.profile, source)
        if via is None:
            return
        if self._prompts.report(time.monotonic(), via) is not None:
            self._pump()

    def _connected(self) -> None:
        """The called party answered: the call is up."""
        with self._lock:
            if self.state == "dialling":
                self.state = "active"

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
        self._line.call_finished(self)
        self.post_hangup(reason)
