"""Recording a caller, kept once for every line: the writer for lines that hear the caller as
PCM (SIP, simulated), and the durable file handling every line uses (modems too).

Format: WAV, 8 kHz, 16-bit signed little-endian, mono PCM. Telephone audio is 8 kHz (G.711 on
SIP trunks and GSM gateways, a modem's PCM port), and decoded G.711 is 13-14 bits of linear
audio, so 16-bit PCM keeps all the caller said and nothing more. It needs no codec to write on
a Pi or to read anywhere (Python's wave, sox, every browser), and costs 16 kB a second (about
1 MB a minute), which a box's SD card holds by the thousand. Compressing for the link to HQ
belongs to the upload, not to the box's copy.

Durability: a line writes under a temporary name beside the final path (``temp_path``),
fsyncs, renames, fsyncs the directory, and only then reports ``RecordingFinished``: a kill -9
or a power cut leaves no file at the final name or a complete one, never half of one.
"""

from __future__ import annotations

import array
import logging
import math
import os
import struct
import sys
import threading
import warnings
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ._events import RecordingFinished

log = logging.getLogger("edgecall.recording")

# audioop measures a frame 50 times faster than Python (a SIP line recording many calls on a Pi
# feels it); it ships with Python up to 3.12 and as audioop-lts (a dependency) from 3.13.
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
except ImportError:  # pragma: no cover - the pure-Python measure below stands in
    audioop = None  # type: ignore[assignment]

RATE = 8000
SAMPLE_BYTES = 2
BYTES_PER_S = RATE * SAMPLE_BYTES
FRAME_S = 0.02  # silence is judged per 20 ms frame: one RTP packet's worth, short enough to
FRAME_BYTES = int(RATE * FRAME_S) * SAMPLE_BYTES  # end promptly, long enough to average over
HEADER_BYTES = 44
# RMS (of 32767) below which a frame counts as silence: about -38 dBFS. Line hiss and GSM
# comfort noise sit well below, speech on a phone well above (1000-5000).
SILENCE_RMS = 400.0
PREROLL_S = 0.2  # silence kept before the first word (trimmed beyond it, as Studio trims)
TAIL_S = 0.3  # silence kept after the last word, so its end is not clipped
FORMAT = "wav/pcm_s16le/8000/1"  # what the store records for HQ


def wav_header(data_bytes: int, rate: int = RATE) -> bytes:
    """The 44-byte header of a mono 16-bit PCM WAV holding ``data_bytes`` of samples."""
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + data_bytes, b"WAVE", b"fmt ", 16, 1,
                       1, rate, rate * SAMPLE_BYTES, SAMPLE_BYTES, 16, b"data", data_bytes)


def pcm_wav(pcm: bytes, rate: int = RATE) -> bytes:
    return wav_header(len(pcm), rate) + pcm


def temp_path(path: Path) -> Path:
    """Where a recording is written until it is complete: beside ``path`` (the rename stays
    within one directory, so it is atomic), hidden, and named so a sweep knows it is half."""
    return path.with_name(f".{path.name}.part")


def fsync_dir(directory: Path) -> None:
    """Make a directory's entries (a rename, a new file) durable."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def durable_mkdir(directory: Path) -> None:
    """Create ``directory`` (and missing parents) so that the entries survive a power cut."""
    missing: list[Path] = []
    for parent in (directory, *directory.parents):
        if parent.is_dir():
            break
        missing.append(parent)
    for new in reversed(missing):
        new.mkdir(exist_ok=True)
        fsync_dir(new.parent)


def commit_file(temp: Path, path: Path) -> None:
    """``temp`` (written and fsynced) becomes ``path``: rename, then fsync the directory."""
    os.replace(temp, path)
    fsync_dir(path.parent)


def write_durably(path: Path, data: bytes) -> None:
    """For lines that have the whole recording at once (a modem's file, fetched and turned
    into 8 kHz 16-bit PCM): write it at ``path`` the durable way."""
    durable_mkdir(path.parent)
    temp = temp_path(path)
    with open(temp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    commit_file(temp, path)


def recording_problem(path: Path) -> str | None:
    """None when ``path`` is a complete recording in the lines' format, else what is wrong:
    missing, empty, not WAV, another format, or cut short (sizes in the header that do not
    match the file)."""
    try:
        with open(path, "rb") as wav:
            header = wav.read(HEADER_BYTES)
            size = os.fstat(wav.fileno()).st_size
    except FileNotFoundError:
        return "not found"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if size == 0:
        return "is empty"
    if len(header) < HEADER_BYTES or header[:4] != b"RIFF" or header[8:16] != b"WAVEfmt ":
        return "is not a WAV file"
    (riff, fmt_size, tag, channels, rate, _byte_rate, _align, bits, data_id,
     data_bytes) = struct.unpack("<4xI8xIHHIIHH4sI", header)
    if (fmt_size, tag, channels, rate, bits, data_id) != (16, 1, 1, RATE, 16, b"data"):
        return "is not 8 kHz 16-bit mono PCM WAV"
    if riff != size - 8 or data_bytes != size - HEADER_BYTES:
        return f"is incomplete (header says {data_bytes} bytes of sound, file has " \
            f"{size - HEADER_BYTES})"
    if data_bytes == 0:
        return "has no sound in it"
    return None


def rms(frame: bytes) -> float:
    """Root mean square of 16-bit little-endian samples."""
    if audioop is not None and sys.byteorder == "little":
        return float(audioop.rms(frame[: len(frame) - len(frame) % 2], 2))
    samples = array.array("h", frame[: len(frame) - len(frame) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


class Recorder:
    """One recording: 16-bit PCM in (``feed``, from the line's media thread), a durable WAV
    out. It ends by itself after ``silence_s`` of silence (0: never; silence before any speech
    counts too, as Twilio's <Record> timeout does) or ``max_s`` of audio, or when the line
    calls ``stop`` (a finish key, a hang-up, the server's stop_recording). Silence before the
    first word and after the last is trimmed to a short margin; nothing heard means no file.

    ``feed`` and ``stop`` return at once: the file is finished (fsync, rename, directory
    fsync) on a short thread of its own, since an fsync on an SD card may take longer than an
    RTP packet may wait, and then ``report`` gets the one :class:`RecordingFinished`.
    """

    def __init__(self, record_id: int, path: Path, max_s: float, silence_s: float,
                 report: Callable[[RecordingFinished], object], *,
                 silence_rms: float = SILENCE_RMS, background: bool = True) -> None:
        self.record_id = record_id
        self.path = Path(path)
        self._max_frames = max(1, math.ceil(max_s / FRAME_S - 1e-9))
        self._silence_frames = math.ceil(silence_s / FRAME_S - 1e-9) if silence_s > 0 else 0
        self._report = report
        self._silence_rms = silence_rms
        self._background = background
        self._lock = threading.Lock()
        self._pending = b""
        self._preroll: deque[bytes] = deque(maxlen=max(1, round(PREROLL_S / FRAME_S)))
        self._file: BinaryIO | None = None
        self._frames = 0  # frames heard, silent or not
        self._silent_run = 0
        self._written = 0  # bytes of sound in the temporary file
        self._voiced_end = 0  # bytes written up to the end of the last word
        self._failed = False
        self._ended = False
        self.done = threading.Event()  # set once reported

    @property
    def ended(self) -> bool:
        return self._ended

    def feed(self, pcm: bytes) -> None:
        if self._ended:  # racy but safe: it only ever turns true
            return
        with self._lock:
            if self._ended:
                return
            data = self._pending + pcm
            reason = None
            offset = 0
            while reason is None and offset + FRAME_BYTES <= len(data):
                reason = self._frame(data[offset:offset + FRAME_BYTES])
                offset += FRAME_BYTES
            self._pending = data[offset:] if reason is None else b""
            if reason is not None:
                self._ended = True
        if reason is not None:
            self._launch(reason, "")

    def stop(self, reason: str, key: str = "") -> None:
        with self._lock:
            if self._ended:
                return
            self._ended = True
        self._launch(reason, key)

    # -- internals ---------------------------------------------------------------------------
    def _frame(self, frame: bytes) -> str | None:
        self._frames += 1
        try:
            if rms(frame) >= self._silence_rms:
                if self._file is None:
                    self._open()
                    for earlier in self._preroll:
                        self._write(earlier)
                    self._preroll.clear()
                self._write(frame)
                self._voiced_end = self._written
                self._silent_run = 0
            else:
                self._silent_run += 1
                if self._file is None:
                    self._preroll.append(frame)
                else:
                    self._write(frame)
        except OSError as exc:
            log.error("recording %s cannot be written: %s", self.path.name, exc)
            self._failed = True
            return "failed"
        if self._silence_frames and self._silent_run >= self._silence_frames:
            return "silence"
        if self._frames >= self._max_frames:
            return "max"
        return None

    def _open(self) -> None:
        durable_mkdir(self.path.parent)
        out = open(temp_path(self.path), "wb")  # noqa: SIM115 - open for the whole recording
        out.write(wav_header(0))
        self._file = out

    def _write(self, frame: bytes) -> None:
        assert self._file is not None
        self._file.write(frame)
        self._written += len(frame)

    def _launch(self, reason: str, key: str) -> None:
        if self._background:
            threading.Thread(target=self._finish, args=(reason, key), daemon=True,
                             name=f"recording-{self.record_id}").start()
        else:
            self._finish(reason, key)

    def _finish(self, reason: str, key: str) -> None:
        with self._lock:
            event = self._close(reason, key)
        try:
            self._report(event)
        finally:
            self.done.set()

    def _close(self, reason: str, key: str) -> RecordingFinished:
        out, self._file = self._file, None
        temp = temp_path(self.path)
        if out is None:
            return RecordingFinished(self.record_id, None, 0.0,
                                     "failed" if self._failed else reason, key)
        try:
            if self._failed:
                raise OSError("an earlier write failed")
            keep = min(self._written, self._voiced_end + int(TAIL_S * BYTES_PER_S))
            out.flush()
            out.truncate(HEADER_BYTES + keep)
            out.seek(0)
            out.write(wav_header(keep))
            out.flush()
            os.fsync(out.fileno())
            out.close()
            commit_file(temp, self.path)
        except OSError as exc:
            log.error("recording %s not kept: %s", self.path.name, exc)
            try:
                out.close()
                temp.unlink(missing_ok=True)
            except OSError:
                pass
            return RecordingFinished(self.record_id, None, 0.0, "failed", key)
        return RecordingFinished(self.record_id, self.path, round(keep / BYTES_PER_S, 3),
                                 reason, key)
