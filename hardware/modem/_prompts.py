"""Recorded prompts on the module: converted once, uploaded when missing or changed, looked up
when a prompt plays. A prompt the module does not hold is spoken with TTS.

Threads: :meth:`ModulePrompts.sync` runs on the line's supervisor thread and uses the driver's
blocking ``execute`` (uploads take the port for their length); :meth:`lookup` and
:meth:`refused` are called on the port thread while a call plays prompts. The manifest is
guarded by a lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from . import _parser as p
from ._audiofiles import quectel_checksum
from ._commands import MEDIUM_S, Response
from ._convert import FORMATS, ConversionFailed, Converter, file_sha256
from ._manifest import Failed, Held, Manifest
from ._profiles import FileVoice

log = logging.getLogger(__name__)

Execute = Callable[..., Response]
# (prompt key, language, WAV path): what the box's survey records, from LineContext.extras.
Recording = tuple[str, str, Path]


@dataclass(frozen=True)
class Playable:
    """A prompt the module holds: what to play and how long it lasts."""

    path: str  # on the module
    seconds: float
    name: str


class ModulePrompts:
    """The recorded prompts of one module. ``baud``: the port's speed, for upload timeouts
    (a USB port is faster; the guard only has to be long enough)."""

    def __init__(self, voice: FileVoice, directory: Path, execute: Execute, *,
                 baud: int = 115200, busy: Callable[[], bool] = lambda: False) -> None:
        self.voice = voice
        self.directory = directory
        self._execute = execute
        self._baud = baud
        self._busy = busy
        self._converter = Converter(directory / "cache")
        self._lock = threading.Lock()
        self._manifest: Manifest | None = None
        self._verified: set[str] = set()
        self._hashes: dict[tuple[str, int, int], str] = {}
        self._wanted: dict[str, tuple[Path, set[str]]] = {}  # asked for but not held
        self._sources: dict[str, Path] = {}  # source SHA-256 -> a recording with it
        self._refusals: dict[str, int] = {}

    # ---- identity

    def attach(self, identity: str) -> None:
        """The module answered to ``identity`` (IMEI): its manifest is loaded. A module that
        restarted (or was swapped) is checked again file by file at the next sync."""
        with self._lock:
            if self._manifest is None or self._manifest.identity != identity:
                self._manifest = Manifest.load(self.directory, identity)
            self._verified.clear()

    # ---- port thread

    def lookup(self, audio: Path, label: str = "") -> Playable | None:
        """What to play for the recording at ``audio``; None when the module does not hold it
        (it is then wanted: the next sync uploads it)."""
        digest = self._sha(audio)
        with self._lock:
            manifest = self._manifest
            held = manifest.by_source(digest) if manifest else None
            if held is not None:
                return Playable(self.voice.path.format(name=held.name), held.seconds,
                                held.name)
            if manifest is not None and digest not in manifest.failed:
                _path, labels = self._wanted.setdefault(digest, (audio, set()))
                if label:
                    labels.add(label)
        return None

    def refused(self, playable: Playable, why: str) -> None:
        """The module refused to play a file it was thought to hold (gone from its storage,
        or a format it does not take): not held any more. It is uploaded again when the line
        is next idle; refused again after that, it stays TTS until the next start."""
        with self._lock:
            manifest = self._manifest
            if manifest is None or playable.name not in manifest.files:
                return
            held = manifest.files.pop(playable.name)
            self._verified.discard(held.name)
            refusals = self._refusals[held.source] = self._refusals.get(held.source, 0) + 1
            if refusals == 1:  # uploaded again when the line is next idle
                self._wanted[held.source] = (self._sources.get(held.source, Path()),
                                             set(held.prompts))
            else:  # refused again after a fresh upload: TTS until the next start
                manifest.failed[held.source] = Failed(held.source, f"play refused: {why}",
                                                      held.prompts)
            manifest.save()
        log.warning("modem: the module refused to play %s (%s); TTS until it is uploaded "
                    "again", playable.name, why)

    @property
    def wanted(self) -> bool:
        with self._lock:
            return bool(self._wanted)

    # ---- supervisor thread

    def sync(self, recordings: Iterable[Recording] | None) -> bool:
        """Bring the module in line with ``recordings`` (None: check what the manifest says it
        holds, and upload what plays asked for). Returns False when it stopped for a call."""
        with self._lock:
            manifest = self._manifest
            if manifest is None:
                return True
            wanted = {d: (path, set(labels)) for d, (path, labels) in self._wanted.items()}
            # A recording refused before is tried again at each full sync (after a restart,
            # or a survey change): the cause may be gone.
            retry = recordings is not None
        for key, language, path in recordings or ():
            if path.is_file():
                wanted.setdefault(self._sha(path), (path, set()))[1].add(f"{key}/{language}")
        if recordings is None:
            for held in list(manifest.files.values()):
                wanted.setdefault(held.source, (Path(), set()))[1].update(held.prompts)
        for digest, (path, labels) in wanted.items():
            if self._busy():
                return False  # a call: the port is the caller's; the rest waits
            self._one(manifest, digest, path, labels, retry=retry)
            with self._lock:
                self._wanted.pop(digest, None)
        return True

    def facts(self) -> dict[str, object]:
        """For status and doctor: the prompts the module holds, and those spoken with TTS
        and why."""
        with self._lock:
            manifest = self._manifest
            if manifest is None:
                return {}
            held = sorted({label for h in manifest.files.values() for label in h.prompts})
            tts = {label: f.reason for f in manifest.failed.values() for label in f.prompts}
            for _path, labels in self._wanted.values():
                for label in labels:
                    tts.setdefault(label, "not uploaded yet")
        return {"recordings_held": held, "recordings_tts": dict(sorted(tts.items()))}

    # ---- inside

    def _one(self, manifest: Manifest, digest: str, path: Path, labels: set[str], *,
             retry: bool) -> None:
        with self._lock:
            held = manifest.by_source(digest)
            failed = manifest.failed.get(digest)
        if held is not None:
            if held.name in self._verified or self._holds(held):
                with self._lock:
                    self._verified.add(held.name)
                    prompts = sorted(set(held.prompts) | labels)
                    if prompts != held.prompts:  # unchanged: no write at every start
                        held.prompts = prompts
                        manifest.save()
                return
            with self._lock:  # gone from the module (reflashed, deleted): upload it again
                manifest.files.pop(held.name, None)
        if failed is not None and not retry:
            with self._lock:
                prompts = sorted(set(failed.prompts) | labels)
                if prompts != failed.prompts:
                    failed.prompts = prompts
                    manifest.save()
            return
        if not path.is_file():
            return  # known only from the manifest: nothing to upload it from
        try:
            converted = self._converter.convert(path, self.voice.format, digest)
        except ConversionFailed as exc:
            self._fail(manifest, digest, f"conversion: {exc}", labels)
            return
        name = f"p{converted.sha256[:7]}.{FORMATS[self.voice.format][0]}"  # DOS 8.3
        data = converted.path.read_bytes()
        reason = self._upload(name, data)
        if reason is not None:
            self._fail(manifest, digest, f"upload: {reason}", labels)
            return
        with self._lock:
            manifest.files[name] = Held(name, converted.sha256, len(data), digest,
                                        converted.seconds, sorted(labels))
            manifest.failed.pop(digest, None)
            self._verified.add(name)
            manifest.save()
        log.info("modem: recorded prompt %s uploaded (%d bytes, %.1f s)", name, len(data),
                 converted.seconds)

    def _fail(self, manifest: Manifest, digest: str, reason: str, labels: set[str]) -> None:
        with self._lock:
            manifest.failed[digest] = Failed(digest, reason, sorted(labels))
            manifest.save()
        log.warning("modem: a recorded prompt stays TTS (%s): %s", ", ".join(sorted(labels)),
                    reason)

    def _holds(self, held: Held) -> bool:
        """Whether the module still holds ``held``, by its size where the module can say."""
        voice = self.voice
        if voice.size_query is None or voice.size_prefix is None:
            return True
        path = voice.path.format(name=held.name)
        response = self._execute(voice.size_query.format(path=path),
                                 expect=(voice.size_prefix,), timeout=MEDIUM_S)
        if not response.ok:
            # Refused: no such file on most firmware. A timeout says nothing: keep it.
            return response.timed_out or response.final == "CANCELLED"
        size = _size(response, voice.size_prefix)
        return size is None or size == held.size

    def _upload(self, name: str, data: bytes) -> str | None:
        """Put ``data`` on the module as ``name``; None when done and checked, else why not."""
        voice = self.voice
        path = voice.path.format(name=name)
        execute = self._execute
        execute(voice.delete.format(path=path), timeout=MEDIUM_S)  # an older copy, if any
        wait = self._transfer_s(len(data))
        if voice.upload == "fswrite":
            assert voice.create is not None
            created = execute(voice.create.format(path=path), timeout=MEDIUM_S)
            if not created.ok:
                return f"{_name(voice.create)} refused ({created.final})"
            chunk = voice.max_chunk or len(data)
            for offset in range(0, len(data), chunk):
                part = data[offset:offset + chunk]
                command = voice.upload_command.format(
                    path=path, mode=0 if offset == 0 else 1, size=len(part),
                    timeout=max(5, int(self._transfer_s(len(part)))))
                written = execute(command, body=part, body_end=b"",
                                  timeout=self._transfer_s(len(part)) + MEDIUM_S)
                if not written.ok:
                    return f"{_name(command)} refused ({written.final})"
        elif voice.upload == "qfupl":
            command = voice.upload_command.format(path=path, size=len(data),
                                                  timeout=max(5, int(wait)))
            sent = execute(command, expect=("+QFUPL",), body=data, body_after="CONNECT",
                           body_end=b"", timeout=wait + MEDIUM_S)
            if not sent.ok:
                return f"AT+QFUPL refused ({sent.final})"
            fields = p.split_fields(p.payload(sent.first("+QFUPL") or "", "+QFUPL"))
            if len(fields) >= 2 and (fields[0] != str(len(data)) or
                                     _hex(fields[1]) != quectel_checksum(data)):
                return f"upload corrupted (module counted {fields[0]} bytes, sum {fields[1]})"
        else:
            command = voice.upload_command.format(path=path, size=len(data))
            sent = execute(command, body=data, body_end=b"", timeout=wait + MEDIUM_S)
            if not sent.ok:
                return f"{_name(command)} refused ({sent.final})"
        held = Held(name, "", len(data), "", 0.0)
        if not self._holds(held):
            return "the module holds a file of another size"
        return None

    def _transfer_s(self, size: int) -> float:
        # 10 bits a byte on the wire, twice over for a slow module, plus a fixed guard.
        return 2.0 * size * 10 / max(self._baud, 9600) + 5.0

    def _sha(self, path: Path) -> str:
        try:
            stat = path.stat()
        except OSError:
            return ""
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        digest = self._hashes.get(key)
        if digest is None:
            digest = file_sha256(path)
            self._hashes[key] = digest
            self._sources[digest] = path
        return digest


def _size(response: Response, prefix: str) -> int | None:
    line = response.first(prefix)
    return None if line is None else p.parse_file_size(line, prefix)


def _hex(text: str) -> int | None:
    try:
        return int(text, 16)
    except ValueError:
        return None


def _name(command: str) -> str:
    return command.split("=")[0]
