"""What differs between modules, as data: the driver has no per-module branches.

Sources: SIMCom SIM800 AT manual, Quectel EC25 manuals, chan_dongle/chan_quectel practice
(see shared/reference/gsm-modems.md). Entries marked "verify" in the reference are kept but
their failure is tolerated (``optional_init``).
"""

from __future__ import annotations

from dataclasses import dataclass


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
    file_play: str | None  # format with path=...; plays a file uploaded to the module
    file_done: str | None
    iccid: str
    iccid_prefix: str
    time_query: str  # asks the network time; answered by +CCLK or +QLTS
    time_prefix: str


_COMMON_HEAD = ("AT+CLIP=1", "AT+CMGF=1", 'AT+CSCS="GSM"', "AT+CSDH=1", "AT+CNMI=2,1,0,0,0",
                "AT+CREG=2")

SIM800 = Profile(
    name="sim800",
    title="SIMCom SIM800/SIM800L/SIM800C/SIM900",
    # CVHU=0 makes ATH hang up voice calls; DDET=1 turns on DTMF detection (+DTMF: 5);
    # CLTS=1 asks for network time URCs (*PSUTTZ, +CTZV).
    init=(*_COMMON_HEAD, "AT+CVHU=0"),
    optional_init=("AT+CLTS=1",),
    dtmf_enable=("AT+DDET=1",),
    hangup="ATH",
    tts_ascii='AT+CTTS=2,"{text}"',
    tts_ucs2='AT+CTTS=1,"{hex}"',
    tts_stop="AT+CTTS=0",
    tts_done="CTTS",
    file_play='AT+CREC=4,"{path}",0,90',
    file_done="CREC",
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
    optional_init=('AT+QURCCFG="urcport","usbat"', "AT+CTZU=1"),
    dtmf_enable=("AT+QTONEDET=1",),
    hangup="AT+CHUP",
    tts_ascii='AT+QWTTS=1,1,2,"{text}"',
    tts_ucs2='AT+QWTTS=1,1,1,"{hex}"',
    tts_stop="AT+QWTTS=0",  # (verify)
    tts_done="QWTTS",
    file_play='AT+QPSND=1,"{path}",0,1,1',
    file_done="QPSND",
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
    optional_init=("AT+CDTAM=1", "AT+CTZU=1"),
    dtmf_enable=("AT+DDET=1",),  # +RXDTMF: 1
    hangup="AT+CHUP",
    tts_ascii='AT+CTTS=2,"{text}"',
    tts_ucs2='AT+CTTS=1,"{hex}"',
    tts_stop="AT+CTTS=0",
    tts_done="CTTS",
    file_play=None,
    file_done=None,
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
