"""The simulated module's file storage and its file player: uploads with each module's file
commands (the data after ``> `` or ``CONNECT``), and playing a file into the call with an end
report once it has played (its real length times ``play_scale``).

Per module (sources in docs/modem.md, "Recorded prompts"): SIM800 ``AT+FSCREATE``,
``AT+FSWRITE=<file>,<mode>,<size>,<timeout>`` (``> ``), ``AT+FSFLSIZE``, ``AT+FSDEL``, plays
with ``AT+CREC=4,...`` (``+CREC: 0``), stops with ``AT+CREC=5``; EC25 ``AT+QFUPL`` (``CONNECT``,
then ``+QFUPL: <size>,<checksum>``), ``AT+QFLST``, ``AT+QFDEL``, ``AT+QPSND=1,...``
(``+QPSND: 0``), ``AT+QPSND=0``; SIM7600 ``AT+CFTRANRX`` (``>``), ``AT+FSATTRI``,
``AT+FSDEL``, ``AT+CCMXPLAY`` (``+AUDIOSTATE: audio play stop``), ``AT+CCMXSTOP``.
Files survive reboots (flash). A file that is not there cannot be played: an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._audiofiles import quectel_checksum, seconds

# What each module says when asked to play a file it does not have (SIM800 AT+CREC lists
# 5008 "File is not exist"; Quectel's file commands use 405 "file not found").
_MISSING = {"sim800": 5008, "ec25": 405, "sim7600": None}


@dataclass
class Upload:
    path: str
    size: int
    kind: str  # "fswrite", "qfupl", "cftranrx"
    append: bool = False
    data: bytearray = field(default_factory=bytearray)


class ModuleStorage:
    """Mixin of :class:`ModemModel` (its output, clock and call): files and the file player."""

    def _init_storage(self, play_scale: float) -> None:
        self.files: dict[str, bytes] = {}
        self.play_scale = play_scale
        self.uploads = 0  # upload commands whose data arrived
        self.files_started = 0
        self.file_plays: list[str] = []  # paths played into a call, in order
        self._upload: Upload | None = None
        self._file_until: float | None = None
        self._file_playing = ""
        self._file_reported = 0  # plays that ended on their own

    # ---- upload

    def _taking_upload(self) -> bool:
        return self._upload is not None

    def _upload_byte(self, byte: int) -> None:
        upload = self._upload
        assert upload is not None
        upload.data.append(byte)
        if len(upload.data) < upload.size:
            return
        self._upload = None
        self.uploads += 1
        if "upload_fails" in self.variants and \
                self.uploads == int(self.variants.number("upload_fails")):
            self._final("+CME ERROR: 409" if upload.kind == "qfupl" else "ERROR")
            return
        data = bytes(upload.data)
        if upload.append:
            data = self.files.get(upload.path, b"") + data
        self.files[upload.path] = data
        if upload.kind == "qfupl":
            self._reply([f"+QFUPL: {len(data)},{quectel_checksum(data):x}"])
        else:
            self._reply()

    def _at_FSCREATE(self, arg: str) -> None:
        path = _path(arg)
        if path in self.files:
            self._final("ERROR")
            return
        self.files[path] = b""
        self._reply()

    def _at_FSWRITE(self, arg: str) -> None:
        fields = arg.lstrip("=").split(",")
        path = _path(fields[0])
        if path not in self.files or len(fields) < 3:
            self._final("ERROR")
            return
        self._upload = Upload(path, int(fields[2]), "fswrite", append=fields[1].strip() == "1")
        self._emit(self.profile.eol + b"> ")

    def _at_QFUPL(self, arg: str) -> None:
        fields = arg.lstrip("=").split(",")
        path = _path(fields[0])
        if path in self.files:
            self._error(407)  # file exists: delete it first
            return
        size = int(fields[1]) if len(fields) > 1 else 10240
        self._upload = Upload(path, size, "qfupl")
        self.urc("CONNECT")

    def _at_CFTRANRX(self, arg: str) -> None:
        fields = arg.lstrip("=").split(",")
        self._upload = Upload(_path(fields[0]), int(fields[1]), "cftranrx")
        self._emit(self.profile.eol + b">")

    def _delete(self, arg: str) -> None:
        path = _path(arg)
        if path not in self.files:
            self._error(405) if self.profile.name == "ec25" else self._final("ERROR")
            return
        del self.files[path]
        self._reply()

    _at_FSDEL = _at_QFDEL = _delete

    def _size_reply(self, arg: str, form: str) -> None:
        path = _path(arg)
        if path not in self.files:
            self._error(405) if self.profile.name == "ec25" else self._final("ERROR")
            return
        self._reply([form.format(path=path, size=len(self.files[path]))])

    def _at_FSFLSIZE(self, arg: str) -> None:
        self._size_reply(arg, "+FSFLSIZE: {size}")

    def _at_QFLST(self, arg: str) -> None:
        self._size_reply(arg, '+QFLST: "{path}",{size}')

    def _at_FSATTRI(self, arg: str) -> None:
        self._size_reply(arg, "+FSATTRI: {size},2025/01/01 00:00:00")

    # ---- play

    def _play(self, path: str, info: list[str] | None = None) -> None:
        if path not in self.files:
            code = _MISSING.get(self.profile.name)
            self._error(code) if code else self._final("ERROR")
            return
        if self.prompt_playing():
            self._final("ERROR")  # one sound at a time: busy
            return
        played = seconds(self.files[path])
        if played is None:
            self._final("ERROR")  # not a format it plays
            return
        self._reply(info)
        if self.profile.name == "sim7600":
            self.urc("+AUDIOSTATE: audio play")
        self.files_started += 1
        self._file_playing = path
        self._file_until = self._now + played * self.play_scale

    def _at_CREC(self, arg: str) -> None:
        fields = arg.lstrip("=").split(",")
        mode = fields[0].strip()
        if mode == "4" and len(fields) > 1:
            self._play(_path(fields[1]))
        elif mode == "5":
            self._reply()
            self._stop_file()
        elif mode in ("1", "2"):
            self._crec_record(mode, fields)  # recording: see _recording
        else:
            self._reply()

    def _at_QPSND(self, arg: str) -> None:
        fields = arg.lstrip("=").split(",")
        if fields[0].strip() == "1" and len(fields) > 1:
            self._play(_path(fields[1]))
        else:
            self._reply()
            self._stop_file()

    def _at_CCMXPLAY(self, arg: str) -> None:
        fields = arg.lstrip("=").split(",")
        self._play(_path(fields[0]), ["+CCMXPLAY:"])

    def _at_CCMXSTOP(self, arg: str) -> None:
        self._reply(["+CCMXSTOP:"])
        self._stop_file()

    def _file_done_urc(self) -> str:
        return {"sim800": "+CREC: 0", "ec25": "+QPSND: 0"}.get(
            self.profile.name, "+AUDIOSTATE: audio play stop")

    def _stop_file(self) -> None:
        if self._file_until is not None:
            self._file_until = None
            self.urc(self._file_done_urc())

    def _advance_file(self, now: float) -> None:
        if self._file_until is None or now < self._file_until:
            return
        self._file_until = None
        call = self.call
        if call is not None and call.state == "active":
            self.heard.append(f"file:{self._file_playing}")
            self.file_plays.append(self._file_playing)
        self._file_reported += 1
        if "lost_play_done" in self.variants and \
                self._file_reported == int(self.variants.number("lost_play_done")):
            return
        self.urc(self._file_done_urc())


def _path(text: str) -> str:
    """A file argument as the module stores it: the "=" and quotes off."""
    return text.strip().lstrip("=").strip().strip('"')
