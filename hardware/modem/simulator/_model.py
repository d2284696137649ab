"""The simulated module itself: AT bytes in, AT bytes out, at the times a module would send
them. Sans-IO: the owner (``_server``) feeds bytes and the time and writes what is due.

Faithful where drivers break: echo on after every boot, ``\\r\\r\\n`` framing on one profile,
URCs between echo and response and between info line and OK (``sandwich``), the ``> ``
prompt with no line end, non-UTF-8 noise, +CME ERROR 515/14 bursts, a dropped OK, slow
answers, RING without +CLIP, DTMF detection that stays off until the module is told, ATH that
ignores voice calls on a SIM800 until AT+CVHU=0, TTS into the call only after AT+CDTAM=1
on a SIM7600, QWTTS refused outside a call. Call hold, a second call and explicit call
transfer (AT+CHLD) are in ``_transfer``.

Field behaviours that only some modules or firmware show are opt-in variants
(``ModemModel(profile, variants={"late_clcc"})``, catalogue in ``_variants``).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ._calls import Call
from ._outgoing import OutgoingCalls
from ._recording import ModuleRecorder
from ._storage import ModuleStorage
from ._transfer import CallHold
from ._variants import Variants

# frozen_clock without a network time ever given: a plausible instant that never moves.
_FROZEN_DEFAULT = datetime(2025, 1, 1, tzinfo=UTC)
# dtmf_forms: every form seen in manuals and reports, in turn ({k} the key, {a} its ASCII code).
_DTMF_FORMS = ("+DTMF:{k}", "+DTMF: {k},160", "+DTMF: {k}", "+RXDTMF: {k}", "+RXDTMF:{k}",
               "+QTONEDET: {a}", "+QTONEDET:{a}")


@dataclass(frozen=True)
class SimProfile:
    name: str
    eol: bytes
    ident: str
    dtmf_enable: tuple[str, ...]  # command prefixes that turn DTMF reports on
    dtmf_form: str  # "simcom" (+DTMF: 5), "quectel" (+QTONEDET: 49), "rx" (+RXDTMF: 1)
    tts: str | None  # "CTTS" or "QWTTS"
    tts_needs_cdtam: bool
    iccid_command: str
    iccid_prefix: str
    voice_call_urcs: bool  # SIM7600 VOICE CALL: BEGIN/END, MISSED_CALL
    ath_needs_cvhu: bool
    boot_urcs: tuple[str, ...]
    commands: frozenset[str]  # profile-only command names accepted
    chld: tuple[str, ...]  # the AT+CHLD values the module lists (AT+CHLD=?), "1x" for 11..19


SIM_PROFILES = {
    "sim800": SimProfile(
        "sim800", b"\r\n", "SIM800 R14.18", ("AT+DDET=1",), "simcom", "CTTS", False,
        "AT+CCID", "", False, True,
        ("RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"),
        frozenset({"+CVHU", "+DDET", "+CTTS", "+CCID", "+CLTS", "+CREC", "+MORING",
                   "+FSCREATE", "+FSWRITE", "+FSDEL", "+FSFLSIZE", "+FSREAD"}),
        # V1.09 s.3.2.14 describes 0, 1, 1x, 2, 2x, 3 and 4 (ECT) but prints no list (verify).
        chld=("0", "1", "1x", "2", "2x", "3", "4"),
    ),
    "ec25": SimProfile(
        "ec25", b"\r\n", "Quectel EC25 Revision: EC25EFAR06A06M4G", ("AT+QTONEDET=1",),
        "quectel", "QWTTS", False, "AT+QCCID", "+QCCID: ", False, False,
        ("RDY", "+CFUN: 1", "+CPIN: READY", "+QIND: SMS DONE"),
        frozenset({"+QTONEDET", "+QWTTS", "+QCCID", "+QLTS", "+QURCCFG", "+CTZU", "+QPSND",
                   "+CVHU", "+QFUPL", "+QFDEL", "+QFLST", "+QAUDRD", "+QFDWL"}),
        # EC2x manual s.11.3 names HOLD, MPTY and ECT (22.091) but prints no list (verify).
        chld=("0", "1", "1x", "2", "2x", "3", "4"),
    ),
    # Framed with \r\r\n to exercise that firmware habit on one profile.
    "sim7600": SimProfile(
        "sim7600", b"\r\r\n", "SIMCOM_SIM7600E-H", ("AT+DDET=1",), "rx", "CTTS", True,
        "AT+CICCID", "+ICCID: ", True, False,
        ("RDY", "+CPIN: READY", "SMS DONE", "PB DONE"),
        frozenset({"+DDET", "+CTTS", "+CDTAM", "+CICCID", "+CTZU", "+CPCMREG", "+CFTRANRX",
                   "+FSDEL", "+FSATTRI", "+CCMXPLAY", "+CCMXSTOP", "+CRECAMR",
                   "+CFTRANTX"}),
        chld=("0", "1", "1x", "2", "2x", "3", "4"),  # SIM7500/SIM7600 manual V1.07, AT+CHLD
    ),
}

_COMMON = frozenset({"", "E0", "E1", "I", "A", "H", "D", "X", "+COLP", "+CMEE", "+CLIP",
                     "+CRC", "+CMGF", "+CSCS",
                     "+CSDH", "+CNMI", "+CREG", "+CGREG", "+CEREG", "+CSQ", "+CPIN", "+CGSN",
                     "+CIMI", "+CCLK", "+CLCC", "+CHUP", "+CMGS", "+CMGR", "+CMGD", "+CSMP",
                     "+CPMS", "+CFUN", "+IPR", "&W", "Z", "+CHLD"})
_NEEDS_SIM = frozenset({"A", "D", "+CMGS", "+CMGR", "+CMGD", "+CPMS", "+CNMI", "+CIMI", "+CCID",
                        "+QCCID", "+CICCID"})


@dataclass
class SmsStored:
    sender: str
    text: str
    read: bool = False
    storage: str = "SM"


@dataclass
class Faults:
    cme_burst: list[int] = field(default_factory=list)  # codes for the next commands
    drop_ok: int = 0  # next N OKs are not sent
    slow_s: float = 0.0  # delay for the next `slow_count` responses
    slow_count: int = 0
    slow_command: str | None = None  # only that command's answers are slow ("A" for ATA)
    sandwich: int = 0  # next N responses carry URCs between echo/info/OK


class ModemModel(OutgoingCalls, CallHold, ModuleStorage, ModuleRecorder):
    def __init__(self, profile: str = "sim800", *, ring_interval: float = 3.0,
                 tts_char_s: float = 0.02, sms_send_s: float = 0.2, boot_s: float = 0.5,
                 imei: str = "867000000000001", iccid: str = "8925500000000000001",
                 pin: str = "1234", play_scale: float = 1.0,
                 variants: Variants | Iterable[str] | Mapping[str, float | None] | None = None
                 ) -> None:
        self.profile = SIM_PROFILES[profile]
        self.variants = Variants.parse(variants)
        self.ring_interval = ring_interval
        self.tts_char_s = tts_char_s
        self.sms_send_s = sms_send_s
        self.boot_s = boot_s
        self.imei = imei
        self.iccid = iccid
        self.pin = pin
        self.sim = "ready"  # ready, pin, missing
        self.rssi = 20
        self.reg = 1
        self.dtmf_silent = False  # accepts DTMF detection but never reports keys
        self.network_utc_offset: timedelta | None = None  # set by network_time()
        self.network_given: datetime | None = None  # the last time the network gave
        self.tz_quarters = 12
        self.sms: dict[int, SmsStored] = {}
        self.sent_sms: list[tuple[str, str]] = []
        self.heard: list[str] = []  # utterances the caller heard (TTS into the call)
        self.tts_started = 0  # prompts begun, heard or not
        self.tts_ends: list[tuple[str, float]] = []  # (text, when it stopped sounding)
        self.idle_stops = 0  # TTS stop commands that found nothing playing
        self._tts_completed = 0  # prompts that finished on their own
        self._tts_ucs2 = False
        self._dtmf_turn = 0
        self._answering = ""  # the command being answered, for Faults.slow_command
        self.faults = Faults()
        self.commands_seen: list[str] = []
        self._out: list[tuple[float, int, bytes]] = []
        self._seq = itertools.count()
        self._last_due = 0.0
        self._rx = bytearray()
        self._now = 0.0
        self._booting_until = 0.0
        self._sms_entry: str | None = None  # number while in "> " text entry
        self.call: Call | None = None
        self._keys: list[tuple[float, str, int | None]] = []
        self._tts_until: float | None = None
        self._tts_text = ""
        self._sms_index = itertools.count(1)
        self._init_outgoing()
        self._init_transfer()
        self._init_storage(play_scale)
        self._init_recorder()
        self._reset_settings()

    # ------------------------------------------------------------------ settings

    def _reset_settings(self) -> None:
        self.echo = True
        self.cmee = 0
        self.clip = False
        self.cvhu = 1
        # ddet_error firmware detects keys from boot; others wait to be told.
        self.dtmf_on = "ddet_error" in self.variants and not self.dtmf_silent
        self.cdtam = False
        self.cmgf = 0
        self.cscs = "IRA"
        self.csdh = False
        self.cnmi = False
        self.creg_n = 0
        self.read_storage = "SM"  # AT+CPMS <mem1>: where AT+CMGR/CMGD look
        self.sim_unlocked = self.sim == "ready"
        self.colp = 0
        self.atx = 4
        self.moring = False

    # ------------------------------------------------------------------ output scheduling

    def _emit(self, data: bytes, delay: float = 0.0) -> None:
        # Output never overtakes output scheduled earlier: a serial line is ordered.
        due = max(self._now + delay, self._last_due)
        self._last_due = due
        heapq.heappush(self._out, (due, next(self._seq), data))

    def _line(self, text: str) -> bytes:
        eol = self.profile.eol
        return eol + text.encode("latin-1", "replace") + eol

    def urc(self, text: str, delay: float = 0.0) -> None:
        self._emit(self._line(text), delay)

    def next_due(self) -> float | None:
        times = [t for t in (self._out[0][0] if self._out else None,
                             self.call.next_ring if self.call and self.call.state == "ringing"
                             else None,
                             self._keys[0][0] if self._keys else None,
                             self._tts_until, self._file_until) if t is not None]
        times += self._outgoing_due()
        return min(times) if times else None

    @property
    def prompts_started(self) -> int:
        """Prompts begun, spoken or played: a scripted far end answers each new one."""
        return self.tts_started + self.files_started

    def prompt_playing(self) -> bool:
        return self._tts_until is not None or self._file_until is not None

    def _new_call(self, number: str | None, *, outgoing: bool = False) -> Call:
        return Call(number, False, False, state="dialing" if outgoing else "ringing",
                    rang_at=self._now, index=self._free_index())

    def _int_arg(self, arg: str, default: int) -> int:
        return _intarg(arg, default)

    def take_output(self, now: float) -> bytes:
        self._advance(now)
        out = bytearray()
        while self._out and self._out[0][0] <= now:
            out += heapq.heappop(self._out)[2]
        return bytes(out)

    def advance(self, now: float) -> None:
        """Bring the model's time to ``now`` (rings, key tones, TTS ends) without output."""
        self._advance(now)

    def _clip_text(self, call: Call) -> str:
        if call.withheld:
            return '+CLIP: "",128,"",0,"",1'
        number = call.number or ""
        return f'+CLIP: "{number}",{145 if number.startswith("+") else 129},"",0,"",0'

    def _advance(self, now: float) -> None:
        self._now = now
        call = self.call
        if call and call.state == "ringing" and now >= call.next_ring:
            call.next_ring = now + self.ring_interval
            self.urc("RING")
            if call.clip and self.clip and "no_clip" not in self.variants:
                self.urc(self._clip_text(call))
            if call.rings_left is not None:
                call.rings_left -= 1
                if call.rings_left <= 0:
                    self.remote_hangup()  # the caller rings off (no credit: call me back)
        while self._keys and self._keys[0][0] <= now:
            _, key, duration = self._keys.pop(0)
            self._report_key(key, duration)
        if self._tts_until is not None and now >= self._tts_until:
            self._tts_until = None
            self._tts_finished()
        self._advance_file(now)
        self._advance_outgoing(now)

    # ------------------------------------------------------------------ bytes in

    def receive(self, data: bytes, now: float) -> None:
        self._advance(now)
        if now < self._booting_until:
            return  # a booting module reads nothing
        for byte in data:
            if self._taking_upload():  # file data after "> "/CONNECT: bytes, not commands
                self._upload_byte(byte)
                continue
            if self._sms_entry is not None:
                self._sms_byte(byte)
                continue
            if byte in (0x0D,):
                text = self._rx.decode("latin-1").strip()
                self._rx.clear()
                aborted = self.abort_dial()  # a character ends a dial waiting for its result
                if self.echo:
                    self._emit(text.encode("latin-1") + b"\r")
                if text:
                    if aborted:
                        self.commands_seen.append(f"(abort) {text}")
                    self._command(text)
            elif byte == 0x0A:
                continue
            else:
                self._rx.append(byte)

    def _sms_byte(self, byte: int) -> None:
        if byte == 0x1B:
            self._sms_entry = None
            self._rx.clear()
            self._final("OK")
            return
        if byte != 0x1A:
            self._rx.append(byte)
            return
        number, body = self._sms_entry, self._rx.decode("latin-1")
        self._sms_entry = None
        self._rx.clear()
        if self.echo:
            self._emit(body.encode("latin-1"))
        if self.cscs == "UCS2":
            number = _from_ucs2(number or "")
            body = _from_ucs2(body)
        self.sent_sms.append((number or "", body))
        ref = len(self.sent_sms)
        self._reply([f"+CMGS: {ref}"], delay=self.sms_send_s)

    # ------------------------------------------------------------------ responses

    def _reply(self, info: list[str] | None = None, final: str = "OK",
               delay: float = 0.0) -> None:
        faults = self.faults
        if faults.slow_count and faults.slow_command in (None, self._answering):
            faults.slow_count -= 1
            delay += faults.slow_s
        sandwich = faults.sandwich > 0 and bool(info)
        if sandwich:
            faults.sandwich -= 1
            self.urc('+CREG: 1,"1A2B","3C4D"', delay)
        for line in info or []:
            self._emit(self._line(line), delay)
        if sandwich:
            self.urc("+CTZV: +12,0", delay)
        self._final(final, delay)

    def _final(self, final: str, delay: float = 0.0) -> None:
        if final == "OK" and self.faults.drop_ok:
            self.faults.drop_ok -= 1
            return
        self._emit(self._line(final), delay)

    def _error(self, code: int) -> None:
        self._final(f"+CME ERROR: {code}" if self.cmee else "ERROR")

    # ------------------------------------------------------------------ commands

    def _command(self, text: str) -> None:
        self.commands_seen.append(text)
        upper = text.upper()
        if not upper.startswith("AT"):
            self._final("ERROR")
            return
        body = text[2:]
        name = _name(body.upper())
        if name not in _COMMON and name not in self.profile.commands:
            self._final("ERROR")
            return
        if self.faults.cme_burst and name not in ("", "E0", "E1"):
            code = self.faults.cme_burst.pop(0)
            self._final(f"+CME ERROR: {code}")
            return
        if name in _NEEDS_SIM and not self.sim_unlocked:
            self._error(10 if self.sim == "missing" else 11)
            return
        arg = body[len(name):]
        self._answering = name
        handler = getattr(self, "_at_" + _attr(name), None)
        if handler is None:
            self._reply()  # a setting we accept and ignore
        else:
            handler(arg)

    def _at_(self, arg: str) -> None:
        self._reply()

    def _at_E0(self, arg: str) -> None:
        self.echo = False
        self._reply()

    def _at_E1(self, arg: str) -> None:
        self.echo = True
        self._reply()

    def _at_I(self, arg: str) -> None:
        self._reply([self.profile.ident])

    def _at_CMEE(self, arg: str) -> None:
        self.cmee = _intarg(arg, 0)
        self._reply()

    def _at_CLIP(self, arg: str) -> None:
        self.clip = _intarg(arg, 0) == 1
        self._reply()

    def _at_CVHU(self, arg: str) -> None:
        self.cvhu = _intarg(arg, 1)
        self._reply()

    def _dtmf_enable(self, arg: str, prefix: str) -> None:
        if "ddet_error" in self.variants:
            self._final("ERROR")  # refused, though detection is on all the same
            return
        if any(p.startswith(prefix) for p in self.profile.dtmf_enable):
            # dtmf_silent: answers OK but never reports keys, as some SIM800L units do.
            self.dtmf_on = _intarg(arg, 0) == 1 and not self.dtmf_silent
        self._reply()

    def _at_DDET(self, arg: str) -> None:
        self._dtmf_enable(arg, "AT+DDET")

    def _at_QTONEDET(self, arg: str) -> None:
        self._dtmf_enable(arg, "AT+QTONEDET")

    def _at_CDTAM(self, arg: str) -> None:
        self.cdtam = _intarg(arg, 0) == 1
        self._reply()

    def _at_CMGF(self, arg: str) -> None:
        self.cmgf = _intarg(arg, 0)
        self._reply()

    def _at_CSCS(self, arg: str) -> None:
        self.cscs = arg.lstrip("=").strip('"').upper() or self.cscs
        self._reply()

    def _at_CSDH(self, arg: str) -> None:
        self.csdh = _intarg(arg, 0) == 1
        self._reply()

    def _at_CNMI(self, arg: str) -> None:
        self.cnmi = arg.lstrip("=").startswith(("2,1", "1,1"))
        self._reply()

    def _at_CREG(self, arg: str) -> None:
        if arg == "?":
            reg = self.reg if self.sim_unlocked else 0
            if "creg_short" in self.variants:
                self._reply([f"+CREG: {reg}"])
                return
            extra = ',"1A2B","3C4D"' if self.creg_n == 2 and reg in (1, 5) else ""
            if extra and "creg_act" in self.variants:
                extra += ",7"
            self._reply([f"+CREG: {self.creg_n},{reg}{extra}"])
            return
        self.creg_n = _intarg(arg, 0)
        self._reply()

    def _at_CSQ(self, arg: str) -> None:
        self._reply([f"+CSQ: {self.rssi},99"])

    def _at_CPIN(self, arg: str) -> None:
        if arg == "?":
            if self.sim == "missing":
                self._error(10)
            else:
                self._reply(["+CPIN: READY" if self.sim_unlocked else "+CPIN: SIM PIN"])
            return
        if self.sim == "missing":
            self._error(10)
        elif arg.lstrip("=").strip('"') == self.pin:
            self.sim_unlocked = True
            self._reply()
            self.urc("+CPIN: READY", 0.05)
        else:
            self._error(16)

    def _at_CGSN(self, arg: str) -> None:
        self._reply([self.imei])

    def _at_CIMI(self, arg: str) -> None:
        self._reply(["640040000000001"])

    def _iccid(self, arg: str) -> None:
        self._reply([self.profile.iccid_prefix + self.iccid])

    _at_CCID = _at_QCCID = _at_CICCID = _iccid

    def _network_now(self) -> datetime | None:
        if "frozen_clock" in self.variants:
            return self.network_given or _FROZEN_DEFAULT
        if self.network_utc_offset is None:
            return None
        return self._skewed(datetime.now(UTC) + self.network_utc_offset)

    def _skewed(self, utc: datetime) -> datetime:
        if "wrong_clock" in self.variants:
            return utc + timedelta(days=self.variants.number("wrong_clock"))
        return utc

    def _at_CCLK(self, arg: str) -> None:
        utc = self._network_now()
        if utc is None:  # an RTC that lost power: the 2004 default
            self._reply(['+CCLK: "04/01/01,00:00:09+00"'])
            return
        local = utc + timedelta(minutes=15 * self.tz_quarters)
        self._reply([f'+CCLK: "{local:%y/%m/%d,%H:%M:%S}{self.tz_quarters:+03d}"'])

    def _at_QLTS(self, arg: str) -> None:
        utc = self._network_now()
        if utc is None:
            self._reply(['+QLTS: ""'])
            return
        self._reply([f'+QLTS: "{utc:%Y/%m/%d,%H:%M:%S}{self.tz_quarters:+03d},0"'])

    def _at_CLCC(self, arg: str) -> None:
        lines = [line for call in self.calls() if (line := self._clcc_line(call))]
        # 27.007 s.7.18: one information response, a line per call ([<CR><LF>+CLCC: ...]).
        self._reply([self.profile.eol.decode().join(lines)] if lines else None)

    def _clcc_line(self, call: Call) -> str | None:
        """The call's +CLCC line (27.007 s.7.18), None while it is not listed."""
        if call.dialled is not None:
            stat = {"setup": 2, "alerting": 3}.get(call.dialled.stage, 0)
            stat = 1 if call.state == "held" else stat
            number = call.number or ""
            kind = 145 if number.startswith("+") else 129
            return f'+CLCC: {call.index},0,{stat},0,0,"{number}",{kind}'
        if call.state == "ringing" and self._unlisted(call):
            return None
        stat = {"ringing": 4, "held": 1}.get(call.state, 0)
        number = "" if call.withheld else (call.number or "")
        kind = 145 if number.startswith("+") else 129
        return f'+CLCC: {call.index},1,{stat},0,0,"{number}",{kind}'

    def _unlisted(self, call: Call) -> bool:
        if "no_clcc_ringing" in self.variants:
            return True
        return "late_clcc" in self.variants and \
            self._now - call.rang_at < self.variants.number("late_clcc")

    def _at_A(self, arg: str) -> None:
        call = self.call
        if call is None or call.state != "ringing" or call.dialled is not None:
            self._final("NO CARRIER")
            return
        call.state = "active"
        call.started = self._now
        self._reply()
        if self.profile.voice_call_urcs:
            self.urc("VOICE CALL: BEGIN")

    def _hangup(self) -> None:
        self.held = None  # every call ends (V.250 hook control; AT+CHUP: active and held)
        if self.call is not None:
            self._recording_over_by_call()
            self.call = None
            self._keys.clear()
            self._stop_tts()
            self._stop_file()
        self._reply()

    def _at_H(self, arg: str) -> None:
        if self.profile.ath_needs_cvhu and self.cvhu != 0:
            self._reply()  # SIM800 default: ATH answers OK and leaves a voice call up
            return
        self._hangup()

    def _at_CHUP(self, arg: str) -> None:
        self._hangup()

    # ---- prompts into the call

    def _tts(self, arg: str, name: str) -> None:
        if self.profile.tts != name:
            self._final("ERROR")
            return
        fields = arg.lstrip("=").split(",")
        if fields == ["0"]:
            if self._tts_until is None:
                self.idle_stops += 1
            self._reply()
            self._stop_tts()
            return
        text = arg.split('"')[1] if '"' in arg else ""
        mode = fields[-2] if name == "QWTTS" else fields[0]
        ucs2 = (name == "QWTTS" and mode == "1") or (name == "CTTS" and fields[0] == "1")
        if ucs2:
            text = _from_ucs2(text)
        if name == "QWTTS" and (self.call is None or self.call.state != "active"):
            self._error(903)
            return
        if self.prompt_playing():
            self._final("ERROR")  # busy: the driver must wait for the done URC
            return
        self._reply()
        self._tts_text = text
        self._tts_ucs2 = ucs2
        self._tts_until = self._now + 0.05 + self.tts_char_s * len(text)
        self.tts_started += 1

    def _at_CTTS(self, arg: str) -> None:
        self._tts(arg, "CTTS")

    def _at_QWTTS(self, arg: str) -> None:
        self._tts(arg, "QWTTS")

    def _stop_tts(self) -> None:
        if self._tts_until is not None:
            self._tts_until = None
            self.tts_ends.append((self._tts_text, self._now))
            if not self._tts_silent():
                self.urc(f"+{self.profile.tts}: 0")

    def _tts_silent(self) -> bool:
        return self._tts_ucs2 and "no_tts_done_ucs2" in self.variants

    def _tts_finished(self) -> None:
        to_caller = self.call is not None and self.call.state == "active" and (
            self.cdtam or not self.profile.tts_needs_cdtam)
        if to_caller:
            self.heard.append(self._tts_text)
        self.tts_ends.append((self._tts_text, self._now))
        self._tts_completed += 1
        if "lost_tts_done" in self.variants and \
                self._tts_completed == int(self.variants.number("lost_tts_done")):
            return
        if not self._tts_silent():
            self.urc(f"+{self.profile.tts}: 0")

    # ---- SMS

    def _at_CMGS(self, arg: str) -> None:
        if self.cmgf != 1:
            self._final("+CMS ERROR: 304")
            return
        self._sms_entry = arg.lstrip("=").strip('"')
        self._emit(self.profile.eol + b"> ")

    def _at_CPMS(self, arg: str) -> None:
        if arg.startswith("="):
            self.read_storage = arg[1:].split(",")[0].strip('"').upper() or self.read_storage
        used = sum(1 for m in self.sms.values() if m.storage == self.read_storage)
        self._reply([f"+CPMS: {used},30,{used},30,{used},30"])

    def _at_CMGR(self, arg: str) -> None:
        index = _intarg(arg, -1)
        message = self.sms.get(index)
        if message is not None and message.storage != self.read_storage:
            self._reply()  # that index is empty in the storage being read: a bare OK
            return
        if message is None:
            self._final("+CMS ERROR: 321")
            return
        status = "REC READ" if message.read else "REC UNREAD"
        message.read = True
        ucs2 = not _gsm_ok(message.text)
        body = message.text.encode("utf-16-be").hex().upper() if ucs2 else message.text
        head = f'+CMGR: "{status}","{message.sender}","","25/05/17,14:03:22+12"'
        if self.csdh:
            head += f',145,4,0,{8 if ucs2 else 0},"+255000000000",145,{len(message.text)}'
        eol = self.profile.eol
        self._emit(self._line(head) + eol.join(body.encode("latin-1").split(b"\n")) + eol)
        self._final("OK")

    def _at_CMGD(self, arg: str) -> None:
        index = _intarg(arg.split(",")[0], -1)
        message = self.sms.get(index)
        if message is not None and message.storage == self.read_storage:
            del self.sms[index]
        self._reply()

    # ------------------------------------------------------------------ the outside world

    def incoming_call(self, number: str | None, *, withheld: bool = False,
                      clip: bool = True, rings: int | None = None) -> None:
        """A call rings in (replacing any call, held ones too: a test's doing); with ``rings``
        the caller gives up after that many RINGs."""
        self.held = None
        self.call = Call(None if withheld else number, withheld or number is None, clip,
                         next_ring=self._now, rang_at=self._now, rings_left=rings)

    def press(self, keys: str, *, duration_ms: int | None = None, gap_s: float = 0.05) -> None:
        at = max([self._now, *(k[0] for k in self._keys)])
        for key in keys:
            at += gap_s
            self._keys.append((at, key, duration_ms))

    def _report_key(self, key: str, duration: int | None) -> None:
        if not (self.call and self.call.state == "active" and self.dtmf_on):
            return  # nobody listening: the tone is lost, as on a real module
        if "dtmf_forms" in self.variants:
            form_text = _DTMF_FORMS[self._dtmf_turn % len(_DTMF_FORMS)]
            self._dtmf_turn += 1
            self.urc(form_text.format(k=key, a=ord(key)))
            return
        form = self.profile.dtmf_form
        if form == "quectel":
            self.urc(f"+QTONEDET: {ord(key)}")
        elif form == "rx":
            self.urc(f"+RXDTMF: {key}")
        elif duration is not None:
            self.urc(f"+DTMF:{key},{duration}")
        else:
            self.urc(f"+DTMF: {key}")

    def remote_hangup(self) -> None:
        call = self.call
        if call is None:
            return
        if call.dialled is not None and call.dialled.stage != "active":
            self._dial_over(call.dialled, "NO CARRIER")  # the far end gave up ringing
            return
        self._drop(call)  # a held call stays, held
        if self.profile.voice_call_urcs:
            if call.state == "ringing":
                self.urc(f"MISSED_CALL: 08:48AM {call.number or ''}".rstrip())
                return
            self.urc(f"VOICE CALL: END: {int(self._now - call.started):06d}")
        self.urc("NO CARRIER")

    def sms_in(self, sender: str, text: str) -> int:
        index = next(self._sms_index)
        storage = "ME" if "cmgr_empty" in self.variants else "SM"
        self.sms[index] = SmsStored(sender, text, storage=storage)
        if self.cnmi:
            self.urc(f'+CMTI: "{storage}",{index}')
        return index

    def set_signal(self, rssi: int) -> None:
        self.rssi = rssi

    def set_registration(self, stat: int) -> None:
        self.reg = stat
        if self.creg_n == 1:
            self.urc(f"+CREG: {stat}")
        elif self.creg_n == 2:
            act = ",7" if "creg_act" in self.variants else ""
            self.urc(f'+CREG: {stat},"1A2B","3C4D"{act}')

    def set_sim(self, state: str) -> None:
        """``ready``, ``pin`` (locked until AT+CPIN=<pin>) or ``missing``; takes effect as a
        real swap would: at the next boot."""
        self.sim = state

    def network_time(self, utc: datetime) -> None:
        self.network_utc_offset = utc - datetime.now(UTC)
        self.network_given = utc
        utc = self._network_now() or utc
        if self.profile.name == "sim800":
            self.urc(f"*PSUTTZ: {utc:%Y,%m,%d,%H,%M,%S},\"{self.tz_quarters:+d}\",0")
            self.urc(f"+CTZV: {self.tz_quarters:+d},0")

    def noise(self) -> None:
        self._emit(b"\xff\xfe\x80\x00garbage\x81\r\n")

    def reboot(self, *, silent: bool = False) -> None:
        """The module restarts: the calls drop without NO CARRIER, settings are lost."""
        self.call = None
        self.held = None
        self._keys.clear()
        self._tts_until = None
        self._file_until = None
        self.recording = None  # lost with the power: nothing written
        self._upload = None
        self._sms_entry = None
        self._rx.clear()
        self._out.clear()
        self._last_due = self._now
        self._reset_settings()
        self._booting_until = self._now + self.boot_s
        if not silent:
            for word in self.profile.boot_urcs:
                if word == "+CPIN: READY" and self.sim != "ready":
                    word = "+CPIN: NOT INSERTED" if self.sim == "missing" else "+CPIN: SIM PIN"
                self.urc(word, self.boot_s)


def _name(body: str) -> str:
    """The command's name: "" for AT, "A" for ATA, "+CSQ" for AT+CSQ?, "E0" ..."""
    if not body:
        return ""
    if body[0] in "+&":
        end = 1
        while end < len(body) and (body[end].isalnum() or body[end] in "&"):
            end += 1
        return body[:end].split(";")[0]
    if body[0] in "E" and len(body) > 1 and body[1] in "01":
        return body[:2]
    if body[0] in "AHIZD":
        return body[0]
    if body[0] == "X" and body[1:].isdigit():
        return "X"
    return body


def _attr(name: str) -> str:
    return name.lstrip("+&")


def _intarg(arg: str, default: int) -> int:
    try:
        return int(arg.lstrip("=").split(",")[0].strip('"'))
    except ValueError:
        return default


def _from_ucs2(text: str) -> str:
    try:
        return bytes.fromhex(text).decode("utf-16-be")
    except ValueError:
        return text


def _gsm_ok(text: str) -> bool:
    return text.isascii()
