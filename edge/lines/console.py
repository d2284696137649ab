"""A line whose one caller is the person at the terminal (``edgecall demo --interactive``).

Prompts are printed, and spoken with espeak-ng when it is installed and can reach a sound
device; keys are typed (0-9, *, #; Enter sends them; ``h`` hangs up).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from ._base import BaseCall
from ._call import Call, CallerId, LineStatus
from ._events import KEYS, KeyPressed
from ._prompt import Utterance
from ._scheduler import Scheduler, TimedPlayback
from .simulated import utterance_seconds


class ConsoleCall(BaseCall):
    def __init__(self, out: TextIO, speak: bool) -> None:
        super().__init__("console", CallerId(None, withheld=True))
        self._out = out
        self._speak = speak and shutil.which("espeak-ng") is not None
        self._scheduler = Scheduler("console")
        self._playback = TimedPlayback(self._scheduler, self.post)
        self._voice: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.ended = threading.Event()

    def answer(self) -> None:
        self._out.write("[call answered — type keys then Enter; h hangs up]\n")

    def play(self, play_id: int, utterances: Sequence[Utterance]) -> None:
        self.stop_playback()
        for utterance in utterances:
            self._out.write(f"  box ({utterance.language}): {utterance.text}\n")
        self._out.flush()
        seconds = sum(utterance_seconds(u) for u in utterances)
        self._playback.start(play_id, seconds)
        with self._lock:
            if self._speak and utterances:
                text = " ".join(u.text for u in utterances)
                try:
                    self._voice = subprocess.Popen(
                        ["espeak-ng", "-v", utterances[0].language, text],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    )
                except OSError:
                    self._speak = False

    def stop_playback(self) -> None:
        with self._lock:
            if self._voice is not None and self._voice.poll() is None:
                self._voice.terminate()
        self._playback.stop()

    def hang_up(self) -> None:
        self.stop_playback()
        if not self.ended.is_set():
            self._out.write("[the box hung up]\n")
            self.ended.set()
        self._scheduler.stop()

    def _start_recording(self, record_id: int, path: Path, max_s: float, silence_s: float,
                         finish_keys: str) -> None:
        self._out.write("[the box would record your message now; the console cannot]\n")
        super()._start_recording(record_id, path, max_s, silence_s, finish_keys)

    def typed(self, text: str) -> None:
        for char in text.strip():
            if char.lower() == "h":
                self.post_hangup("remote")
                self.ended.set()
                return
            if char.upper() in KEYS:
                self.post(KeyPressed(char.upper()))


class ConsoleLine:
    def __init__(self, stdin: TextIO | None = None, out: TextIO | None = None,
                 speak: bool = True) -> None:
        self._stdin, self._out = stdin or sys.stdin, out or sys.stdout
        self._speak = speak
        self.call: ConsoleCall | None = None

    @property
    def name(self) -> str:
        return "console"

    def start(self, on_call: Callable[[Call], None]) -> None:
        self.call = ConsoleCall(self._out, self._speak)
        threading.Thread(target=self._read, daemon=True, name="console-keys").start()
        on_call(self.call)

    def _read(self) -> None:
        assert self.call is not None
        for line in self._stdin:
            self.call.typed(line)
            if self.call.ended.is_set():
                return
        self.call.typed("h")  # end of input: the caller put the phone down

    def stop(self) -> None:
        pass

    def status(self) -> LineStatus:
        return LineStatus("console", "console", "ready")
