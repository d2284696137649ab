"""AT lines -> meaning: unsolicited result codes (URCs), final results, response fields.

Pure functions over one decoded line. The command core (``_commands``) asks
:func:`classify_urc` first for every line, so a URC that lands between a command's echo and
its response, or between an info line and OK, never pollutes the response.
Only forms that cannot be a response are classified here; lines such as ``+CPIN: READY`` or
``+CLCC: ...`` are responses when the pending command expects them and URCs otherwise
(:func:`classify_late`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from edge.clock import PLAUSIBLE_YEARS

# --------------------------------------------------------------------------- URC types


@dataclass(frozen=True, slots=True)
class Ring:
    """RING or +CRING: <type>. Repeats every few seconds until answered."""

    kind: str = "VOICE"


@dataclass(frozen=True, slots=True)
class Clip:
    """+CLIP: caller id. ``number`` None when withheld (validity 1) or unavailable (2)."""

    number: str | None
    withheld: bool


@dataclass(frozen=True, slots=True)
class Dtmf:
    digit: str
    duration_ms: int | None = None


@dataclass(frozen=True, slots=True)
class CallEnded:
    """NO CARRIER outside ATA/ATD, VOICE CALL: END, BUSY/NO ANSWER/NO DIALTONE outside ATD.
    ``reason``: "no carrier", "voice call end", "busy", "no answer", "no dialtone"."""

    reason: str


@dataclass(frozen=True, slots=True)
class CallBegan:
    """SIM7600 VOICE CALL: BEGIN: a call (ours or theirs) is connected."""


@dataclass(frozen=True, slots=True)
class Connected:
    """+COLP: the called party answered (AT+COLP=1; 3GPP TS 27.007 s.7.8)."""


@dataclass(frozen=True, slots=True)
class Alerting:
    """SIM800 MO RING (AT+MORING=1): the called phone rings."""


@dataclass(frozen=True, slots=True)
class MissedCall:
    """SIM7600 MISSED_CALL: the caller gave up before we answered."""

    number: str | None


@dataclass(frozen=True, slots=True)
class NewSms:
    storage: str
    index: int


@dataclass(frozen=True, slots=True)
class PlaybackDone:
    """+CTTS/+QWTTS/+CREC/+QPSND: a prompt played through the module finished."""

    source: str
    code: int


@dataclass(frozen=True, slots=True)
class RecordingStopped:
    """The module stopped a recording by itself or says it is stopped: EC25
    ``+QAUDRIND: 0,<code>`` (3 no space, 6 interrupted), SIM7600 ``+RECSTATE: crec stop`` /
    ``+RECSTATE: crecamr stop`` (also after our own stop) and ``+CREC: file full``."""

    source: str
    detail: str


@dataclass(frozen=True, slots=True)
class NetworkTime:
    """The network's time, aware UTC. Implausible years (invalid modem RTC) never get here."""

    utc: datetime
    source: str


@dataclass(frozen=True, slots=True)
class TimeZoneHint:
    """+CTZV: only a zone: the driver then asks AT+CCLK? for the time itself."""

    quarter_hours: int


@dataclass(frozen=True, slots=True)
class Registration:
    """+CREG/+CGREG/+CEREG URC: stat 0 not registered, 1 home, 2 searching, 3 denied,
    5 roaming."""

    stat: int


@dataclass(frozen=True, slots=True)
class SimState:
    """+CPIN: READY / SIM PIN / NOT INSERTED ... outside AT+CPIN?."""

    state: str


@dataclass(frozen=True, slots=True)
class Boot:
    """RDY and friends: the module (re)started. ``word`` is what it said."""

    word: str


@dataclass(frozen=True, slots=True)
class PowerDown:
    word: str


@dataclass(frozen=True, slots=True)
class ClccUrc:
    """+CLCC pushed by SIM800 with AT+CLCC=1."""

    entry: ClccEntry


@dataclass(frozen=True, slots=True)
class Unknown:
    text: str


Urc = (
    Ring | Clip | Dtmf | CallEnded | CallBegan | Connected | Alerting | MissedCall | NewSms
    | PlaybackDone | RecordingStopped | NetworkTime | TimeZoneHint | Registration | SimState
    | Boot | PowerDown | ClccUrc | Unknown
)

# --------------------------------------------------------------------------- fields


def split_fields(rest: str) -> list[str]:
    """Comma-separated AT fields; quotes removed; commas inside quotes kept.

    ``'"+255712345678",145,,,,0'`` -> ``['+255712345678', '145', '', '', '', '0']``.
    """
    fields: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in rest:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            fields.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    fields.append("".join(current).strip())
    return fields


def payload(line: str, prefix: str) -> str:
    """The text after ``prefix`` and its colon, stripped (``+CSQ: 24,99`` -> ``24,99``)."""
    return line[len(prefix) :].lstrip(":").strip()


def _int(text: str, default: int | None = None) -> int | None:
    try:
        return int(text)
    except ValueError:
        return default


# --------------------------------------------------------------------------- final results

FINAL_OK = ("OK",)
FINAL_ERRORS = ("ERROR", "NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE", "NO DIAL TONE",
                "COMMAND NOT SUPPORT")


@dataclass(frozen=True, slots=True)
class Final:
    ok: bool
    text: str
    cme: int | None = None  # +CME ERROR code
    cms: int | None = None  # +CMS ERROR code


def final_result(line: str) -> Final | None:
    if line in FINAL_OK:
        return Final(True, line)
    if line in FINAL_ERRORS:
        return Final(False, line)
    if line.startswith("+CME ERROR"):
        return Final(False, line, cme=_int(payload(line, "+CME ERROR"), -1))
    if line.startswith("+CMS ERROR"):
        return Final(False, line, cms=_int(payload(line, "+CMS ERROR"), -1))
    return None


# --------------------------------------------------------------------------- classification

_KEYS = frozenset("0123456789*#ABCD")
_BOOT_WORDS = frozenset({"RDY", "START"})
_POWER_DOWN = ("NORMAL POWER DOWN", "POWERED DOWN", "UNDER-VOLTAGE POWER DOWN", "POWER DOWN")


def classify_urc(line: str) -> Urc | None:
    """The URC this line is, when it can only be a URC; None otherwise."""
    if line == "RING":
        return Ring()
    if line.startswith("+CRING"):
        return Ring(payload(line, "+CRING") or "VOICE")
    if line.startswith("+CLIP"):
        return parse_clip(payload(line, "+CLIP"))
    if line.startswith("+DTMF"):
        fields = split_fields(payload(line, "+DTMF"))
        return _dtmf(fields[0], _int(fields[1]) if len(fields) > 1 else None)
    if line.startswith("+RXDTMF"):
        return _dtmf(payload(line, "+RXDTMF"), None)
    if line.startswith("+QTONEDET"):
        code = _int(payload(line, "+QTONEDET"))
        return _dtmf(chr(code) if code is not None and 0 < code < 128 else "", None)
    if line == "NO CARRIER":
        return CallEnded("no carrier")
    # The other call-progress results, when no ATD/ATA claims them (ATD answered OK at once,
    # AT+COLP=0): the dialled call ended busy, unanswered, or without service.
    if line == "BUSY":
        return CallEnded("busy")
    if line == "NO ANSWER":
        return CallEnded("no answer")
    if line in ("NO DIALTONE", "NO DIAL TONE"):
        return CallEnded("no dialtone")
    if line.startswith("+COLP"):
        return Connected()  # carries the called number: never kept, never logged
    if line == "MO RING":
        return Alerting()
    if line == "MO CONNECTED":
        return Connected()
    if line.startswith("VOICE CALL: END"):
        return CallEnded("voice call end")
    if line == "VOICE CALL: BEGIN":
        return CallBegan()
    if line.startswith("MISSED_CALL"):
        parts = payload(line, "MISSED_CALL").split()
        return MissedCall(parts[-1] if len(parts) > 1 else None)
    if line.startswith("+CMTI"):
        fields = split_fields(payload(line, "+CMTI"))
        index = _int(fields[-1])
        if index is not None:
            return NewSms(fields[0] if len(fields) > 1 else "SM", index)
    if line.startswith(("+QAUDRIND", "+RECSTATE")) or line in (
            "+CREC: file full", "+CRECAMR: file full"):
        source = line.split(":", 1)[0][1:]
        return RecordingStopped(source, payload(line, "+" + source))
    for source in ("+CTTS", "+QWTTS", "+CREC", "+QPSND"):
        if line.startswith(source + ":"):
            code = _int(split_fields(payload(line, source))[0])
            if code is not None:
                return PlaybackDone(source[1:], code)
    if line == "+AUDIOSTATE: audio play stop":  # SIM7600 AT+CCMXPLAY done (or stopped)
        return PlaybackDone("AUDIOSTATE", 0)
    if line.startswith("+CTZV"):
        return parse_ctzv(payload(line, "+CTZV"))
    if line.startswith("*PSUTTZ"):
        return _time_or_unknown(parse_psuttz(payload(line, "*PSUTTZ")), "psuttz", line)
    if line.startswith(("+CREG", "+CGREG", "+CEREG")):
        prefix = line.split(":", 1)[0]
        rest = payload(line, prefix)
        # The AT+CREG? response is <n>,<stat>[,"lac","ci"[,AcT]]: its second field is a bare
        # number. URCs are <stat> (n=1) or <stat>,"lac","ci"[,AcT] (n=2): one field, or a
        # quoted (or empty) second one. Counting fields fails once AcT is appended (LTE
        # modules), and "+CREG: 1" alone reads the same either way: the stat.
        second = rest.split(",", 2)[1].strip() if "," in rest else None
        if second is None or not second.isdigit():
            stat = _int(split_fields(rest)[0])
            if stat is not None:
                return Registration(stat)
        return None
    if line in _BOOT_WORDS:
        return Boot(line)
    if line in _POWER_DOWN:
        return PowerDown(line)
    return None


def classify_late(line: str) -> Urc:
    """A line no pending command claimed: a URC that also exists as a response, or noise."""
    if line.startswith("+CPIN"):
        return SimState(payload(line, "+CPIN"))
    if line.startswith("+CLCC"):
        entry = parse_clcc(line)
        if entry:
            return ClccUrc(entry)
    if line.startswith("+QLTS"):
        return _time_or_unknown(parse_qlts(payload(line, "+QLTS")), "qlts", line)
    if line.startswith("+CCLK"):
        return _time_or_unknown(parse_cclk(payload(line, "+CCLK")), "cclk", line)
    if line in ("Call Ready", "SMS Ready", "PB DONE", "SMS DONE"):
        return Boot(line)
    return Unknown(line)


def _dtmf(digit: str, duration: int | None) -> Urc:
    digit = digit.strip().strip('"').upper()
    if len(digit) == 1 and digit in _KEYS:
        return Dtmf(digit, duration)
    return Unknown(f"+DTMF {digit!r}")


def _time_or_unknown(utc: datetime | None, source: str, line: str) -> Urc:
    return NetworkTime(utc, source) if utc else Unknown(line)


def parse_clip(rest: str) -> Clip:
    fields = split_fields(rest)
    number = fields[0] or None
    validity = _int(fields[5]) if len(fields) > 5 else None
    if validity in (1, 2):
        number = None
    # Validity 1 is withheld, 2 unavailable (number None, not withheld); an empty number
    # without a validity field is how short-form firmware reports a withheld caller.
    return Clip(number, withheld=validity == 1 or (number is None and validity is None))


# --------------------------------------------------------------------------- responses


@dataclass(frozen=True, slots=True)
class ClccEntry:
    index: int
    incoming: bool
    stat: int  # 0 active, 1 held, 2 dialing, 3 alerting, 4 incoming, 5 waiting, 6 disconnected
    voice: bool
    number: str | None


def parse_clcc(line: str) -> ClccEntry | None:
    fields = split_fields(payload(line, "+CLCC"))
    if len(fields) < 5:
        return None
    index, direction, stat, mode = (_int(f) for f in fields[:4])
    if index is None or stat is None:
        return None
    number = fields[5] if len(fields) > 5 and fields[5] else None
    return ClccEntry(index, direction == 1, stat, mode == 0, number)


def parse_file_size(line: str, prefix: str) -> int | None:
    """A file's size from a module's answer: ``+QFLST: "<name>",<size>`` (Quectel),
    ``+FSFLSIZE: <size>`` (SIM800), ``+FSATTRI: <size>,<date>`` (SIM7600)."""
    fields = split_fields(payload(line, prefix))
    value = fields[1] if prefix == "+QFLST" and len(fields) > 1 else fields[0]
    return _int(value)


def parse_csq(line: str) -> int | None:
    """+CSQ: 24,99 -> 24 (99: unknown -> None)."""
    rssi = _int(split_fields(payload(line, "+CSQ"))[0])
    return None if rssi in (None, 99) else rssi


def csq_to_dbm(rssi: int) -> int:
    return -113 + 2 * rssi


def signal_words(rssi: int | None) -> str:
    if rssi is None:
        return "unknown"
    if rssi >= 20:
        return "excellent"
    if rssi >= 15:
        return "good"
    if rssi >= 10:
        return "fair"
    if rssi >= 2:
        return "marginal: calls may drop"
    return "none"


REGISTRATION_WORDS = {
    0: "not registered",
    1: "registered (home)",
    2: "searching",
    3: "registration denied",
    4: "unknown",
    5: "registered (roaming)",
}


def parse_creg_response(line: str) -> int | None:
    """+CREG: <n>,<stat>[,lac,ci[,AcT]] -> stat."""
    prefix = line.split(":", 1)[0]
    fields = split_fields(payload(line, prefix))
    return _int(fields[1]) if len(fields) >= 2 else None


# --------------------------------------------------------------------------- time

_CCLK = re.compile(r"(\d{2,4})/(\d{1,2})/(\d{1,2}),(\d{1,2}):(\d{1,2}):(\d{1,2})([+-]\d{1,3})?")


def _full_year(year: int) -> int:
    # Two-digit years: "80/01/06" is the 1980 (GPS epoch) default of a module whose RTC lost
    # power, not 2080.
    if year < 100:
        return year + (2000 if year < 70 else 1900)
    return year


def _plausible(utc: datetime) -> datetime | None:
    return utc if utc.year in PLAUSIBLE_YEARS else None


def _local_to_utc(match: re.Match[str], quarter_hours_is_local: bool) -> datetime | None:
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    year = _full_year(year)
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    if quarter_hours_is_local and match.group(7):
        moment -= timedelta(minutes=15 * int(match.group(7)))
    return _plausible(moment)


def parse_cclk(rest: str) -> datetime | None:
    """``"24/05/17,14:03:22+12"``: local time, zone in quarter hours -> UTC."""
    match = _CCLK.search(rest)
    return _local_to_utc(match, quarter_hours_is_local=True) if match else None


def parse_qlts(rest: str) -> datetime | None:
    """Quectel AT+QLTS=1 ``"2017/01/13,03:40:48+32,0"``: already UTC (the zone is
    informative); ``""`` means no network time yet."""
    match = _CCLK.search(rest)
    return _local_to_utc(match, quarter_hours_is_local=False) if match else None


def parse_psuttz(rest: str) -> datetime | None:
    """SIM800 ``2017,11,28,15,35,58,"+12",0``: UTC plus the zone."""
    fields = split_fields(rest)
    if len(fields) < 6:
        return None
    numbers = [_int(f) for f in fields[:6]]
    if any(n is None for n in numbers):
        return None
    year, month, day, hour, minute, second = (int(n) for n in numbers)  # type: ignore[arg-type]
    year = _full_year(year)
    try:
        return _plausible(datetime(year, month, day, hour, minute, second, tzinfo=UTC))
    except ValueError:
        return None


def parse_ctzv(rest: str) -> Urc:
    """``+CTZV: +12,0`` (zone, DST) or, on some firmware, ``+CTZV: 17/11/28,15:35:58,+12``."""
    match = _CCLK.search(rest)
    if match:
        utc = _local_to_utc(match, quarter_hours_is_local=False)
        return NetworkTime(utc, "ctzv") if utc else Unknown("+CTZV: " + rest)
    zone = _int(split_fields(rest)[0])
    return TimeZoneHint(zone) if zone is not None else Unknown("+CTZV: " + rest)


# --------------------------------------------------------------------------- SMS


@dataclass(frozen=True, slots=True)
class SmsHeader:
    status: str
    sender: str
    dcs: int | None  # data coding scheme when AT+CSDH=1 shows it (8: UCS2)


def parse_cmgr_header(line: str) -> SmsHeader | None:
    fields = split_fields(payload(line, "+CMGR"))
    if len(fields) < 2:
        return None
    dcs = _int(fields[7]) if len(fields) > 7 else None
    return SmsHeader(fields[0], fields[1], dcs)


def decode_ucs2_hex(text: str) -> str | None:
    if not text or len(text) % 4 or not re.fullmatch(r"[0-9A-Fa-f]+", text):
        return None
    try:
        return bytes.fromhex(text).decode("utf-16-be")
    except (ValueError, UnicodeDecodeError):
        return None


def encode_ucs2_hex(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()
