"""What differs between modules, as data: the driver has no per-module branches.

Sources: SIMCom SIM800 AT manual, Quectel EC25 manuals, chan_dongle/chan_quectel practice
(see shared/reference/gsm-modems.md). Entries marked "verify" in the reference are kept but
their failure is tolerated (``optional_init``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileVoice:
    """Recorded prompts played from the module's storage (sources: docs/modem.md, "Recorded
    prompts"). Command texts are formats: ``{path}`` the file's path on the module, ``{name}``
    its name, ``{size}`` its length, ``{mode}``/``{timeout}`` where the command takes them."""

    format: str  # the conversion target (``_convert.FORMATS``)
    path: str  # where a file named {name} lives on the module
    upload: str  # "fswrite" (SIM800), "qfupl" (EC25), "cftranrx" (SIM7600)
    upload_command: str
    play: str
    stop: str
    done: str  # the URC name (PlaybackDone.source) that ends a play
    delete: str
    size_query: str | None  # answered with the file's size: checks what the module holds
    size_prefix: str | None
    create: str | None = None  # a file must exist before it is written (SIM800)
    max_chunk: int | None = None  # bytes per write command


@dataclass(frozen=True)
class FileRecord:
    """Recording the caller into a file on the module, and reading it back (sources:
    docs/modem.md, "Recorded answers"). Command texts are formats: ``{path}`` the file's path
    on the module, ``{limit}`` the module's own time limit in seconds (a backstop: the box
    stops it), ``{size}``/``{offset}``/``{mode}`` for reads."""

    extension: str  # what the module writes ("amr"): SoX reads it by this name
    # The most the module writes a second: AMR-NB at its highest mode, 12.2 kbit/s (32 bytes
    # per 20 ms frame). It sizes read timeouts and the wait for a recording after a hang-up.
    bytes_per_s: int
    path: str
    start: str
    stop: str
    stopped: tuple[str, ...]  # RecordingStopped sources: the module ended it by itself
    size_query: str
    size_prefix: str
    download: str  # "fsread" (SIM800), "qfdwl" (EC25), "cftrantx" (SIM7600)
    download_command: str
    delete: str
    chunk: int | None = None  # bytes per read command (None: the whole file in one)


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    init: tuple[str, ...]  # must succeed (after ATE0/CMEE which every profile sends first)
    optional_init: tuple[str, ...]  # tried, an ERROR is logged and tolerated
    # Turns DTMF reports on. Tried, and a refusal tolerated: some firmware answers ERROR and
    # reports keys anyway (detection on from boot); status/doctor say it was refused.
    dtmf_enable: tuple[str, ...]
    hangup: str
    tts_ascii: str  # format with text=...; the text has no double quotes
    tts_ucs2: str | None  # format with hex=... (UCS2 big-endian hex)
    tts_stop: str
    tts_done: str  # the URC name (PlaybackDone.source) that ends one utterance
    files: FileVoice | None  # recorded prompts from the module's storage
    recording: FileRecord | None  # recorded answers (None: BaseCall's "unsupported")
    iccid: str
    iccid_prefix: str
    time_query: str  # asks the network time; answered by +CCLK or +QLTS
    time_prefix: str


_COMMON_HEAD = ("AT+CLIP=1", "AT+CMGF=1", 'AT+CSCS="GSM"', "AT+CSDH=1", "AT+CNMI=2,1,0,0,0",
                "AT+CREG=2")
# Dialling: ATX4 makes a busy callee read BUSY and no service NO DIALTONE rather than NO
# CARRIER; AT+COLP=0 (the factory default, set in case a saved profile changed it) has ATD
# answer OK at once, so the call list and URCs tell the rest (SIM800 AT manual V1.09
# s.2.2.3/2.2.26, EC2x AT manual V2.0 s.7.2). Tolerated when refused: the dial copes either way.
_DIAL_INIT = ("ATX4", "AT+COLP=0")

SIM800 = Profile(
    name="sim800",
    title="SIMCom SIM800/SIM800L/SIM800C/SIM900",
    # CVHU=0 makes ATH hang up voice calls; DDET=1 turns on DTMF detection (+DTMF: 5);
    # CLTS=1 asks for network time URCs (*PSUTTZ, +CTZV).
    init=(*_COMMON_HEAD, "AT+CVHU=0"),
    # MORING=1: MO RING / MO CONNECTED for a dialled call (manual V1.09, URC summary p.352).
    optional_init=("AT+CLTS=1", *_DIAL_INIT, "AT+MORING=1"),
    dtmf_enable=("AT+DDET=1",),
    hangup="ATH",
    tts_ascii='AT+CTTS=2,"{text}"',
    tts_ucs2='AT+CTTS=1,"{hex}"',
    tts_stop="AT+CTTS=0",
    tts_done="CTTS",
    # AT manual V1.09, AT+CREC (p.337): mode 4 plays a record file, <id> a path such as
    # "C:\\User\\x.amr", channel 0, level 0-100; +CREC: 0 when done; mode 5 stops. Files are
    # written with the file system commands AT+FSCREATE / AT+FSWRITE (">" then the data).
    files=FileVoice(
        format="amr-nb-475", path="C:\\User\\{name}", upload="fswrite",
        create="AT+FSCREATE={path}",
        upload_command="AT+FSWRITE={path},{mode},{size},{timeout}",
        play='AT+CREC=4,"{path}",0,90', stop="AT+CREC=5", done="CREC",
        delete="AT+FSDEL={path}", size_query="AT+FSFLSIZE={path}", size_prefix="+FSFLSIZE",
        max_chunk=10240),
    # V1.09 p.337, AT+CREC: mode 1 records into <id> (a quoted path), form 0 AMR, then the
    # time limit in seconds; mode 2 stops. The file is read back with AT+FSREAD=<file>,<mode
    # 0 from the start / 1 at position>,<size>,<position>: the data right after the command's
    # line break, then OK (the FS commands, as AT+FSWRITE; reads of 10240 bytes as drivers
    # that fetch FTP downloads this way do (verify)).
    recording=FileRecord(
        extension="amr", bytes_per_s=1600, path="C:\\User\\{name}",
        start='AT+CREC=1,"{path}",0,{limit}', stop="AT+CREC=2", stopped=(),
        size_query="AT+FSFLSIZE={path}", size_prefix="+FSFLSIZE", download="fsread",
        download_command="AT+FSREAD={path},{mode},{size},{offset}",
        delete="AT+FSDEL={path}", chunk=10240),
    iccid="AT+CCID",
    iccid_prefix="",
    time_query="AT+CCLK?",
    time_prefix="+CCLK",
)

EC25 = Profile(
    name="ec25",
    title="Quectel EC25/EG25/UC15",
    # URCs to the AT port we listen on; QTONEDET=1 turns on DTMF (+QTONEDET: 49), lost on
    # every reset, so it is in the init that runs after each reconnect.
    init=(*_COMMON_HEAD,),
    optional_init=('AT+QURCCFG="urcport","usbat"', "AT+CTZU=1", *_DIAL_INIT),
    dtmf_enable=("AT+QTONEDET=1",),
    hangup="AT+CHUP",
    tts_ascii='AT+QWTTS=1,1,2,"{text}"',
    tts_ucs2='AT+QWTTS=1,1,1,"{hex}"',
    tts_stop="AT+QWTTS=0",  # (verify)
    tts_done="QWTTS",
    # EC2x AT manual V2.0 s.12.18: AT+QPSND=1,<file>,0,1,1 plays a WAV (8/16 kHz mono 16-bit)
    # from UFS to the far end during a call, +QPSND: 0 when done, AT+QPSND=0 stops; files
    # uploaded with AT+QFUPL (CONNECT, the data, +QFUPL: <size>,<checksum>), listed with
    # AT+QFLST, deleted with AT+QFDEL (EC2x FILE AT Commands Manual).
    files=FileVoice(
        format="wav-8k-s16", path="{name}", upload="qfupl",
        upload_command='AT+QFUPL="{path}",{size},{timeout}',
        play='AT+QPSND=1,"{path}",0,1,1', stop="AT+QPSND=0", done="QPSND",
        delete='AT+QFDEL="{path}"', size_query='AT+QFLST="{path}"', size_prefix="+QFLST"),
    # EC2x AT manual V2.0 s.12.17, AT+QAUDRD: 1 starts recording into a UFS file, format 3
    # AMR (13 would be WAV: ten times the bytes to read back), dlink 1 the downlink (what
    # the far end says); 0 stops; +QAUDRIND: 0,<code> when it stopped by itself (3 no
    # space). Read back with AT+QFDWL (EC2x FILE AT manual): CONNECT, the file, then
    # +QFDWL: <size>,<checksum> (the XOR sum of AT+QFUPL); its size first from AT+QFLST.
    recording=FileRecord(
        extension="amr", bytes_per_s=1600, path="{name}",
        start='AT+QAUDRD=1,"{path}",3,1', stop="AT+QAUDRD=0", stopped=("QAUDRIND",),
        size_query='AT+QFLST="{path}"', size_prefix="+QFLST", download="qfdwl",
        download_command='AT+QFDWL="{path}"', delete='AT+QFDEL="{path}"'),
    iccid="AT+QCCID",
    iccid_prefix="+QCCID",
    time_query="AT+QLTS=1",
    time_prefix="+QLTS",
)

SIM7600 = Profile(
    name="sim7600",
    title="SIMCom SIM7600 (E/G/SA)",
    init=(*_COMMON_HEAD,),
    # CDTAM for TTS into the call is firmware-dependent: tolerated.
    optional_init=("AT+CDTAM=1", "AT+CTZU=1", *_DIAL_INIT),
    dtmf_enable=("AT+DDET=1",),  # +RXDTMF: 1
    hangup="AT+CHUP",
    tts_ascii='AT+CTTS=2,"{text}"',
    tts_ucs2='AT+CTTS=1,"{hex}"',
    tts_stop="AT+CTTS=0",
    tts_done="CTTS",
    # SIM7500/SIM7600 AT manual (AT+CCMXPLAY, AT+CCMXSTOP, AT+CFTRANRX) and SIMCom's audio
    # application note s.3.2: AT+CFTRANRX="C:/x.wav",<size> then ">" and the data; play to the
    # far end with AT+CCMXPLAY=<file>,1,0; "+AUDIOSTATE: audio play stop" when done.
    files=FileVoice(
        format="wav-8k-s16", path="C:/{name}", upload="cftranrx",
        upload_command='AT+CFTRANRX="{path}",{size}',
        play='AT+CCMXPLAY="{path}",1,0', stop="AT+CCMXSTOP", done="AUDIOSTATE",
        delete='AT+FSDEL="{path}"', size_query='AT+FSATTRI="{path}"',
        size_prefix="+FSATTRI"),
    # SIMCom audio application note s.3.3 and the SIM7600 AT manual: AT+CRECAMR=2,<file>
    # records the far end ("remote path", only in a call) as AMR, AT+CRECAMR=0 stops,
    # +RECSTATE: crecamr stop once stopped (AT+CREC would write WAV: ten times the bytes).
    # Read back with AT+CFTRANTX=<file>,<location>,<size>: +CFTRANTX: DATA,<n>, n bytes (in
    # one or more blocks), +CFTRANTX: 0, OK.
    recording=FileRecord(
        extension="amr", bytes_per_s=1600, path="C:/{name}",
        start='AT+CRECAMR=2,"{path}"', stop="AT+CRECAMR=0", stopped=("RECSTATE", "CREC", "CRECAMR"),
        size_query='AT+FSATTRI="{path}"', size_prefix="+FSATTRI", download="cftrantx",
        download_command='AT+CFTRANTX="{path}",{offset},{size}',
        delete='AT+FSDEL="{path}"', chunk=10240),
    iccid="AT+CICCID",
    iccid_prefix="+ICCID",
    time_query="AT+CCLK?",
    time_prefix="+CCLK",
)

PROFILES: dict[str, Profile] = {p.name: p for p in (SIM800, EC25, SIM7600)}


def _clean(text: str) -> str:
    return " ".join(text.replace('"', "'").split())


def tts_kind(profile: Profile, text: str) -> str:
    """``ascii`` or ``ucs2``: how the text goes to the module (firmware may report the end of
    one and not the other)."""
    return "ascii" if _clean(text).isascii() or profile.tts_ucs2 is None else "ucs2"


def tts_command(profile: Profile, text: str) -> str:
    """The TTS command for one utterance: ASCII when it can be, UCS2 hex otherwise."""
    clean = _clean(text)
    if tts_kind(profile, text) == "ascii":
        return profile.tts_ascii.format(text=clean.encode("ascii", "replace").decode())
    assert profile.tts_ucs2 is not None
    return profile.tts_ucs2.format(hex=clean.encode("utf-16-be").hex().upper())


def file_command(profile: Profile, path: str) -> str:
    """The command that plays the recording at ``path`` on the module into the call."""
    assert profile.files is not None
    return profile.files.play.format(path=path)


def stop_command(profile: Profile, via: str) -> str:
    """What stops a prompt playing ``via`` "tts" or "file"."""
    return profile.files.stop if via == "file" and profile.files else profile.tts_stop


def report_via(profile: Profile, source: str) -> str | None:
    """Which kind of prompt an end report (PlaybackDone.source) ends; None: neither."""
    if source == profile.tts_done:
        return "tts"
    if profile.files is not None and source == profile.files.done:
        return "file"
    return None
