"""The simulated module records the far end into a file of its own format and gives it back with
its file commands (sources in docs/modem.md, "Recorded answers"):

- SIM800 ``AT+CREC=1,"<file>",0,<limit>`` (AMR), ``AT+CREC=2`` stops; ``AT+FSREAD=<file>,
  <mode>,<size>,<position>``: the data right after a line break, then ``OK``.
- EC25 ``AT+QAUDRD=1,"<file>",3,1`` (AMR), ``AT+QAUDRD=0``; ``AT+QFDWL=<file>``: ``CONNECT``,
  the file, ``+QFDWL: <size>,<checksum>``, ``OK``.
- SIM7600 ``AT+CRECAMR=2,"<file>"`` (``+CRECAMR: 1``), ``AT+CRECAMR=0`` (``+CRECAMR: 0``, then
  ``+RECSTATE: crecamr stop``); ``AT+CFTRANTX=<file>,<location>,<size>``: ``+CFTRANTX: DATA,<n>``
  and n bytes in blocks, ``+CFTRANTX: 0``, ``OK``.

What is in the file is what the simulated caller said (``speak(seconds)``: speech-like sound,
the same the simulated line's callers make) while the recording ran, silence otherwise,
encoded with SoX as the module would (AMR-NB 4.75 kbit/s on the SIM800, the mode it records;
12.2 kbit/s on the others). Recording needs a call; a hang-up or reboot ends it (a hang-up
keeps the file, as modules close it when the call ends).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edge.lines._speech import speech_pcm  # the simulated callers' voice, one for all lines

from .._audiofiles import quectel_checksum
from ._storage import _path

log = logging.getLogger(__name__)

RATE = 8000
_AMR_MODE = {"sim800": "0", "ec25": "7", "sim7600": "7"}  # SoX -C: 0 = 4.75k, 7 = 12.2k
_BLOCK = 2048  # SIMCom AT+CFTRANTX sends a file in blocks of this much at most


@dataclass
class SimRecording:
    path: str
    started: float


class ModuleRecorder:
    """Mixin of :class:`ModemModel`: records the far end, reads files back."""

    def _init_recorder(self) -> None:
        self.recording: SimRecording | None = None
        self.speech: list[tuple[float, float]] = []  # (from, to): the caller speaks
        self.records_started = 0  # record commands, accepted or not
        self.recorded: list[str] = []  # files recorded, in order
        self.downloads = 0  # read-back commands

    # ---- the caller

    def speak(self, seconds: float) -> None:
        """The far end speaks for ``seconds`` from now."""
        self.speech.append((self._now, self._now + seconds))

    # ---- recording

    def _record(self, path: str, info: list[str] | None = None) -> None:
        self.records_started += 1
        call = self.call
        if call is None or call.state != "active" or self.recording is not None:
            self._final("ERROR")  # the far end exists only in a call; one at a time
            return
        if "record_fails" in self.variants and \
                self.records_started == int(self.variants.number("record_fails")):
            self._error(3 if self.profile.name == "ec25" else 100)  # refused
            return
        self.recording = SimRecording(path, self._now)
        self._reply(info)

    def _end_recording(self, urc: str | None = None) -> None:
        """Close the file with what was said between its start and now."""
        recording, self.recording = self.recording, None
        if recording is None:
            return
        try:
            self.files[recording.path] = self._encode(self._heard(recording.started, self._now))
            self.recorded.append(recording.path)
        except (OSError, subprocess.SubprocessError) as exc:
            log.error("simulated module: the recording could not be encoded: %s", exc)
        if urc:
            self.urc(urc)

    def _heard(self, start: float, end: float) -> bytes:
        pcm = bytearray(2 * round((end - start) * RATE))
        for said_from, said_to in self.speech:
            a, b = max(start, said_from), min(end, said_to)
            if b <= a:
                continue
            # The part of the speech inside the recording, at its place in it.
            voice = speech_pcm(round(said_to - said_from, 3))
            offset = 2 * round((a - said_from) * RATE)
            at = 2 * round((a - start) * RATE)
            part = voice[offset:offset + 2 * round((b - a) * RATE)]
            pcm[at:at + len(part)] = part
        return bytes(pcm)

    def _encode(self, pcm: bytes) -> bytes:
        tool = shutil.which("sox")
        if tool is None:
            raise OSError("sox is not installed: the simulated module cannot record")
        with tempfile.TemporaryDirectory(prefix="modem-sim-rec-") as work:
            raw, amr = Path(work) / "in.raw", Path(work) / "out.amr"
            raw.write_bytes(pcm)
            subprocess.run([tool, "-q", "-t", "raw", "-r", str(RATE), "-e", "signed-integer",
                            "-b", "16", "-c", "1", "-L", str(raw), "-t", "amr-nb", "-C",
                            _AMR_MODE[self.profile.name], str(amr)],
                           check=True, capture_output=True, timeout=60)
            return amr.read_bytes()

    def _recording_over_by_call(self) -> None:
        """The call ended: the module closes the file (the SIM7600 says so)."""
        if self.recording is not None:
            stop = "+RECSTATE: crecamr stop" if self.profile.name == "sim7600" else None
            self._end_recording(stop)

    def _at_QAUDRD(self, arg: str) -> None:
        fields = arg.lstrip("=").split(",")
        if fields[0].strip() == "1" and len(fields) > 1:
            self._record(_path(fields[1]))
            return
        if self.recording is None:
            self._error(3)  # nothing recording
            return
        self._reply()
        self._end_recording()

    def _at_CRECAMR(self, arg: str) -> None:
        fields = arg.lstrip("=").split(",")
        if fields[0].strip() == "2" and len(fields) > 1:
            self._record(_path(fields[1]), ["+CRECAMR: 1"])
            return
        if self.recording is None:
            self._final("ERROR")
            return
        self._reply(["+CRECAMR: 0"])
        self._end_recording("+RECSTATE: crecamr stop")

    def _crec_record(self, mode: str, fields: list[str]) -> None:
        """SIM800 AT+CREC modes 1 (record) and 2 (stop)."""
        if mode == "1" and len(fields) > 1:
            self._record(_path(fields[1]))
            return
        if self.recording is None:
            self._final("ERROR")
            return
        self._reply()
        self._end_recording()

    # ---- reading files back

    def _download_cut(self) -> bool:
        self.downloads += 1
        return "download_cut" in self.variants and \
            self.downloads == int(self.variants.number("download_cut"))

    def _send_data(self, head: bytes, data: bytes, tail: bytes) -> None:
        if self._download_cut():
            # The transfer dies halfway (a USB glitch, a module that stalls): nothing more.
            self._emit(head + data[: len(data) // 2])
            return
        self._emit(head + data + tail)

    def _at_FSREAD(self, arg: str) -> None:
        fields = arg.lstrip("=").split(",")
        path = _path(fields[0])
        if path not in self.files or len(fields) < 4:
            self._final("ERROR")
            return
        size, position = int(fields[2]), int(fields[3])
        eol = self.profile.eol
        self._send_data(eol, self.files[path][position:position + size], eol + b"OK" + eol)

    def _at_QFDWL(self, arg: str) -> None:
        path = _path(arg)
        if path not in self.files:
            self._error(405)
            return
        data = self.files[path]
        eol = self.profile.eol
        self._send_data(eol + b"CONNECT" + eol, data,
                        self._line(f"+QFDWL: {len(data)},{quectel_checksum(data):x}")
                        + self._line("OK"))

    def _at_CFTRANTX(self, arg: str) -> None:
        fields = arg.lstrip("=").split(",")
        path = _path(fields[0])
        if path not in self.files:
            self._final("ERROR")
            return
        data = self.files[path]
        position = int(fields[1]) if len(fields) > 1 and fields[1].strip() else 0
        size = int(fields[2]) if len(fields) > 2 and fields[2].strip() else len(data)
        part = data[position:position + size]
        # Each block's announcing line, then its bytes, no line break after them.
        blocks = b"".join(self._line(f"+CFTRANTX: DATA,{len(part[i:i + _BLOCK])}")
                          + part[i:i + _BLOCK] for i in range(0, len(part), _BLOCK))
        if self._download_cut():
            self._emit(blocks[: len(blocks) // 2])
            return
        self._emit(blocks + self._line("+CFTRANTX: 0") + self._line("OK"))
