"""One recorded answer on the module: the record command, the stop (finish key, max length,
hang-up, the server's stop, or the module's own end report), then the file read back, decoded,
trimmed, written durably and reported once.

Threads: ``start`` and ``stop`` return at once from any thread. The record command's answer
and the max-length timer come on the port thread; everything after the stop (stop command,
read-back, delete, SoX, the fsync) runs on a thread of this recording's own, with the driver's
blocking ``execute``, so the port keeps serving keys and the call list meanwhile.

Silence: modules do not report it and cannot stop on it, and reading the file while it grows
would take the port for the whole message, so a silence timeout does not end a recording on a
modem (the survey's finish key, max length and hang-up do). Silence still shapes the answer:
it is trimmed after the fetch as every line trims it, and a recording with no word in it
keeps no file and ends as "silence" (the survey then takes noAudio, the caller silent).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

from edge.lines import RecordingFinished, pcm_wav, write_durably

from . import _capture
from ._audiofiles import amr_whole
from ._commands import MEDIUM_S, Command, Response
from ._driver import Driver
from ._fetch import FetchFailed, fetch, transfer_s
from ._profiles import FileRecord

log = logging.getLogger(__name__)

Report = Callable[[RecordingFinished], object]


def module_name(record_id: int, extension: str) -> str:
    """DOS 8.3, as the modules' file systems prefer: r<5 digits>.<ext>."""
    return f"r{record_id % 100_000:05d}.{extension}"


def fetch_s(spec: FileRecord, max_s: float, baud: int) -> float:
    """The longest reading back a recording of ``max_s`` seconds may take over the port, with
    the decode and the fsync after it."""
    size = int(spec.bytes_per_s * max_s)
    parts = math.ceil(size / spec.chunk) if spec.chunk else 1
    return transfer_s(size, baud) + 0.5 * (parts - 1) + 10.0  # a command round trip a part


class ModuleRecording:
    def __init__(self, driver: Driver, spec: FileRecord, record_id: int, path: Path,
                 max_s: float, *, baud: int, report: Report,
                 done: Callable[[ModuleRecording], None] = lambda _r: None,
                 tool: str | None = None) -> None:
        self.record_id = record_id
        self.path = path
        self._driver = driver
        self._spec = spec
        self._max_s = max_s
        self._baud = baud
        self._report = report
        self._done = done
        self._tool = tool
        self.module_path = spec.path.format(name=module_name(record_id, spec.extension))
        self._lock = threading.Lock()
        self._state = "starting"  # starting, recording, stopping, over
        self._wanted: tuple[str, str] | None = None  # a stop asked for before it started
        self.finished = threading.Event()

    # ---- any thread

    def start(self) -> None:
        spec, driver = self._spec, self._driver
        # A file of that name left by an earlier box run would make the command fail (or
        # record after it): gone first, whatever the answer.
        driver.submit(Command(spec.delete.format(path=self.module_path), timeout=MEDIUM_S))
        limit = math.ceil(self._max_s) + 2  # the module's own backstop; the box stops first
        text = spec.start.format(path=self.module_path, limit=limit)
        driver.submit(Command(text, expect=(_name(text),), timeout=MEDIUM_S,
                              on_done=self._started))

    def stop(self, reason: str, key: str = "") -> None:
        """Stop for ``reason`` and report once the file is durable; only the first stop
        counts."""
        with self._lock:
            if self._state == "starting":
                self._wanted = self._wanted or (reason, key)
                return
            if self._state != "recording":
                return
            self._state = "stopping"
        self._launch(reason, key)

    # ---- port thread

    def module_stopped(self, detail: str) -> None:
        """The module ended the recording itself (storage full, its time limit): what it
        wrote is read back as a message cut at its maximum."""
        with self._lock:
            recording = self._state == "recording"
        if recording:
            log.warning("modem: the module stopped recording %s (%s)", self.record_id, detail)
            self.stop("max")

    def _started(self, response: Response) -> None:
        with self._lock:
            wanted = self._wanted
            if response.ok:
                self._state = "stopping" if wanted else "recording"
            else:
                self._state = "over"
        if not response.ok:
            log.warning("modem: the module refused to record (%s)", response.final)
            self._finish(RecordingFinished(self.record_id, None, 0.0, "failed"))
            return
        if wanted is not None:
            self._launch(*wanted)
            return
        self._driver.call_later(self._max_s, lambda: self.stop("max"))

    # ---- the recording's own thread

    def _launch(self, reason: str, key: str) -> None:
        threading.Thread(target=self._collect, args=(reason, key), daemon=True,
                         name=f"modem-recording-{self.record_id}").start()

    def _collect(self, reason: str, key: str) -> None:
        event = RecordingFinished(self.record_id, None, 0.0, "failed", key)
        try:
            event = self._keep(reason, key)
        except FetchFailed as exc:
            log.error("modem: recording %s not read back: %s", self.record_id, exc)
        except _capture.DecodeFailed as exc:
            log.error("modem: recording %s not decoded: %s", self.record_id, exc)
        except OSError as exc:
            log.error("modem: recording %s not kept: %s", self.record_id, exc)
        except Exception:  # the report must come whatever broke, or the call waits
            log.exception("modem: recording %s", self.record_id)
        self._finish(event)

    def _keep(self, reason: str, key: str) -> RecordingFinished:
        execute, spec = self._driver.execute, self._spec
        # Stopped by us, or already by itself (hang-up, limit): an ERROR then says nothing.
        execute(spec.stop, expect=(_name(spec.stop),), timeout=MEDIUM_S)
        started = time.monotonic()
        try:
            data = fetch(execute, spec, self.module_path, baud=self._baud)
        finally:
            # Read or not, the module's copy goes: its storage is small, and a file left
            # there is a message nobody will ever read.
            execute(spec.delete.format(path=self.module_path), timeout=MEDIUM_S)
        log.info("modem: recording %s read back (%d bytes, %.1f s)", self.record_id,
                 len(data), time.monotonic() - started)
        if data and spec.extension == "amr" and not amr_whole(data):
            # No checksum on SIMCom reads: the frames must fill the file exactly.
            raise FetchFailed("the file read back is not whole AMR")
        pcm = _capture.trim(_capture.decode(data, spec.extension, self._tool)) if data \
            else None
        if pcm is None:
            # No word in it: no file, as every line does. A message that ran to its
            # maximum in silence ends as the silence it was (the module could not stop it).
            return RecordingFinished(self.record_id, None, 0.0,
                                     "silence" if reason == "max" else reason, key)
        write_durably(self.path, pcm_wav(pcm))
        return RecordingFinished(self.record_id, self.path, _capture.seconds(pcm), reason,
                                 key)

    def _finish(self, event: RecordingFinished) -> None:
        with self._lock:
            self._state = "over"
        try:
            self._report(event)
        finally:
            self.finished.set()
            self._done(self)


def _name(command: str) -> str:
    """AT+QAUDRD=1,... -> +QAUDRD: the prefix of the command's own answer lines."""
    return command[2:].split("=")[0].split("?")[0]
