"""The modem as an edge.lines.Line: calls, keys, prompts, SMS, network time, status.

Threads: the driver's port thread delivers URCs and command results, in order, to the
``_on_*`` handlers here (which never block); a supervisor thread runs the blocking init
sequence and the periodic polls (signal, registration, AT+CLCC reconciliation); the server's
call thread uses :class:`ModemCall`. Shared state is guarded by ``ModemLine._lock``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from edge.lines import Call, CallerId, DialResult, LineContext, LineStatus, Utterance
from edge.privacy import redact

from . import _parser as p
from ._advice import dtmf_advice
from ._call import ModemCall
from ._commands import LONG_S, MEDIUM_S, SHORT_S, Command, Response
from ._dialer import ATD_GUARD_S, DialAttempt
from ._driver import Driver, Opener, open_port
from ._profiles import PROFILES, Profile
from ._prompts import ModulePrompts, Playable
from ._recorder import ModuleRecording
from ._ringing import UnknownRings
from ._settings import ModemSettings
from ._speech import SpeechTiming
from ._transfer import Outcome, run_transfer

log = logging.getLogger(__name__)

# SIM busy / SIMCom "init in progress": retried with growing waits after a boot.
_RETRY_CME = frozenset({14, 515})


class ModemLine:
    """One GSM module on one serial port."""

    def __init__(self, settings: ModemSettings, context: LineContext | None = None, *,
                 opener: Opener = open_port) -> None:
        self.settings = settings
        self.profile: Profile = PROFILES[settings.profile]
        self.context = context or LineContext(data_dir=Path("."))
        self._lock = threading.RLock()
        self._on_call: Callable[[Call], None] | None = None
        self._call: ModemCall | None = None
        self._needs_init = threading.Event()
        self._poll_now = threading.Event()
        self._stopped = threading.Event()
        self._state = "starting"
        self._detail = "opening the port"
        self._facts: dict[str, object] = {"profile": self.profile.name, "port": settings.port}
        self._initialised = False
        self._pin_rejected = False
        self._unknown_rings = UnknownRings(settings.answer_unknown_after_rings,
                                           settings.ringing_gone_s)
        self._reading_calls = False
        self._dial: DialAttempt | None = None
        # A transfer in progress (see _transfer): its second call, while it is placed; and
        # whether call reports are the transfer's (True from start to finish).
        self._leg: DialAttempt | None = None
        self._transferring = False
        self.holds: set[str] | None = None  # the module's AT+CHLD operations, once read
        self._last_ring = float("-inf")
        # Recorded answers still being read back (the call may be over): the port is theirs.
        self._recordings: set[ModuleRecording] = set()
        # One call per module, placed or taken: the dispatcher never gives it two.
        self.outbound_capacity = 1
        self.on_ring = settings.on_ring
        self.speech = SpeechTiming()  # the module's speaking pace, learned across calls
        self.driver = Driver(settings.port, settings.baud, on_urc=self._on_urc,
                             on_link=self._on_link, opener=opener,
                             backoff=(0.2, settings.max_backoff_s), name=settings.name)
        # Recorded prompts on the module's storage (none: every prompt is TTS).
        self.prompts = ModulePrompts(
            self.profile.files, self.context.data_dir / "modem-prompts", self.driver.execute,
            baud=settings.baud, busy=self._in_call) if self.profile.files else None
        # A sync to do when idle: "full" (cut short by a call), "wanted" (a play asked).
        self._prompts_due: str | None = None
        self._supervisor = threading.Thread(target=self._supervise,
                                            name=f"{settings.name}-supervisor", daemon=True)

    # ------------------------------------------------------------------ Line

    @property
    def name(self) -> str:
        return self.settings.name

    def dtmf_advice(self, case: str) -> str:
        """What ``edgecall doctor --dtmf-test`` advises when keys fail on this line (found by
        doctor on the line object: edge/ knows no line kind)."""
        with self._lock:
            reporting = self._facts.get("dtmf_reporting")
        return dtmf_advice(self.profile, reporting if isinstance(reporting, str) else None,
                           case)

    @property
    def every_hangup(self) -> tuple[str, ...]:
        """The profile's hang-up first, then the other one: after an answer gone wrong the
        call must end whatever the firmware honours (ATH ignores voice calls on a SIM800 until
        AT+CVHU=0; some firmware takes only AT+CHUP)."""
        return (self.profile.hangup,
                *(c for c in ("ATH", "AT+CHUP") if c != self.profile.hangup))

    # ------------------------------------------------------------------ Dialer

    def ready_to_dial(self) -> bool:
        """Whether a dial now could go out: initialised, registered, no call or ring."""
        with self._lock:
            return self._dial_refusal() is None

    def dial(self, number: str, ring_timeout_s: float) -> DialResult:
        """Place a call (``ATD<number>;``) and wait until it is answered or has failed; at most
        ``ring_timeout_s`` of ringing, then the line hangs up: ``no-answer``. While it dials
        or the call is up, the module takes no other call. Not from the port thread."""
        with self._lock:
            refusal = self._dial_refusal()
            if refusal is not None:
                return DialResult("failed", detail=refusal)
            call = ModemCall(self, CallerId(number), outbound=True)
            attempt = DialAttempt(self.driver, number, ring_timeout_s,
                                  hangups=self.every_hangup, poll_s=self.settings.dial_poll_s,
                                  unlisted_s=self.settings.ringing_gone_s)
            self._call, self._dial = call, attempt
        log.info("modem: dialling %s", redact(number))
        self.driver.call_later(0.0, attempt.start)
        verdict = attempt.wait(ring_timeout_s + ATD_GUARD_S + 2 * MEDIUM_S)
        with self._lock:
            if self._dial is attempt:
                self._dial = None
        if verdict.outcome == "answered":
            # Answered, even if it ended since: the server then reads the hang-up from it.
            call._connected()
            self._poll_now.set()  # the call list is read during calls: a lost NO CARRIER
            return DialResult("answered", call, verdict.detail)
        call._ended(f"dial {verdict.outcome}")
        return DialResult(verdict.outcome, detail=verdict.detail)

    # ------------------------------------------------------------------ transfers

    def transfer(self, call: ModemCall, number: str, ring_timeout_s: float) -> Outcome:
        """Hand ``call``'s caller to ``number`` (``_transfer``); waits, so not from the port
        thread. Call reports go to the transfer meanwhile."""
        with self._lock:
            if self._call is not call or self._transferring:
                return Outcome("failed", "the call is not the module's current call")
            self._transferring = True
        outcome = Outcome("failed", "the transfer stopped")
        try:
            outcome = run_transfer(self, number, ring_timeout_s)
            return outcome
        finally:
            with self._lock:
                if outcome.status == "completed" or outcome.caller_gone:
                    # Forgotten before reports go to calls again: a late NO CARRIER of the
                    # joined calls must not reach the caller's call before TransferFinished.
                    self.call_finished(call)
                self._transferring = False

    def transfer_leg(self, attempt: DialAttempt | None) -> None:
        with self._lock:
            self._leg = attempt

    # ------------------------------------------------------------------ recorded prompts

    def recording(self, utterance: Utterance) -> Playable | None:
        """The module's copy of the utterance's recording, when it holds one (port thread).
        A recording it does not hold yet is uploaded when the line is next idle."""
        if self.prompts is None or utterance.audio is None or not utterance.audio_available():
            return None
        found = self.prompts.lookup(utterance.audio, f"{utterance.key}/{utterance.language}")
        if found is None and self.prompts.wanted:
            self._prompts_due = self._prompts_due or "wanted"
        return found

    def recording_refused(self, playable: Playable, why: str) -> None:
        if self.prompts is not None:
            self.prompts.refused(playable, why)
            self._prompts_due = self._prompts_due or "wanted"

    def _in_call(self) -> bool:
        with self._lock:
            return self._call is not None or self._dial is not None or bool(self._recordings)

    def recording_begun(self, recording: ModuleRecording) -> None:
        with self._lock:
            self._recordings.add(recording)

    def recording_over(self, recording: ModuleRecording) -> None:
        with self._lock:
            self._recordings.discard(recording)
        self._poll_now.set()  # prompt uploads held back for it may go now

    def _sync_prompts(self, full: bool) -> None:
        """Supervisor thread: upload what changed (``full``: against the survey's recordings,
        given by the box as ``extras["recordings"]``)."""
        if self.prompts is None:
            return
        provider = self.context.extras.get("recordings")
        recordings = None
        if full and provider is not None:
            try:
                recordings = list(provider())
            except Exception:  # a survey that cannot be read must not stop the line
                log.exception("modem: the survey's recordings could not be listed")
        done = self.prompts.sync(recordings)
        self._prompts_due = None if done else ("full" if full else "wanted")

    def _dial_refusal(self) -> str | None:
        if not self._initialised:
            return "the module is not ready"
        if self._call is not None or self._dial is not None:
            return "the module is in a call"
        if self._recordings:
            return "the module is reading back a recorded answer"
        if self._facts.get("registered") is False:
            return "the module is not registered on the network"
        if time.monotonic() - self._last_ring < self.settings.ringing_gone_s:
            return "a call is ringing in"
        return None

    def start(self, on_call: Callable[[Call], None]) -> None:
        self._on_call = on_call
        self.driver.start()
        self._supervisor.start()

    def stop(self) -> None:
        with self._lock:
            call = self._call
        if call is not None:  # the port is about to close: nobody could end this call later
            call._ended("line stopped")
            self.driver.execute(self.profile.hangup, timeout=SHORT_S)
        self._stopped.set()
        self._needs_init.set()
        self._poll_now.set()
        self.driver.stop()
        if self._supervisor.is_alive():
            self._supervisor.join(5)

    def status(self) -> LineStatus:
        with self._lock:
            facts = dict(self._facts)
            stats = self.driver.stats
            facts.update(port_opened=stats.opened, command_timeouts=stats.timeouts,
                         reopened_after_timeout=stats.reopen_after_timeout)
            if stats.last_error:
                facts["last_error"] = stats.last_error
            if self.prompts is not None:
                facts.update(self.prompts.facts())
            facts["call"] = self._call.state if self._call else "idle"
            state, detail = self._state, self._detail
            if stats.state == "down":
                state = "down"
                detail = (f"{stats.detail}. Check the cable/USB and that {self.settings.port} "
                          "is the module's AT port; retrying.")
        return LineStatus(self.name, "modem", state, detail, facts)

    # ------------------------------------------------------------------ SMS out

    def send_sms(self, number: str, text: str, timeout: float = LONG_S) -> int | None:
        """Send a text-mode SMS; UCS2 when the text is not plain ASCII. Returns the message
        reference, or None when the network refused it. Blocking: not from the port thread."""
        ucs2 = not text.isascii()
        if ucs2:
            self.driver.execute('AT+CSCS="UCS2"')
            self.driver.execute("AT+CSMP=17,167,0,8")
            target = p.encode_ucs2_hex(number)
            body = p.encode_ucs2_hex(text).encode("ascii")
        else:
            target = number
            body = text.replace("\x1a", "").replace("\x1b", "").encode("latin-1", "replace")
        try:
            response = self.driver.execute(f'AT+CMGS="{target}"', expect=("+CMGS",),
                                           timeout=timeout, body=body)
        finally:
            if ucs2:
                self.driver.execute('AT+CSCS="GSM"')
                self.driver.execute("AT+CSMP=17,167,0,0")
        if not response.ok:
            log.warning("modem: SMS to %s failed: %s", redact(number), response.final)
            return None
        line = response.first("+CMGS")
        return int(p.split_fields(p.payload(line, "+CMGS"))[0]) if line else 0

    # ------------------------------------------------------------------ port thread

    def _on_link(self, up: bool, reason: str) -> None:
        if up:
            self._needs_init.set()
            return
        with self._lock:
            self._initialised = False
            call, dial, leg = self._call, self._dial, self._leg
        if leg is not None:
            leg.lost(f"modem lost: {reason}")
        if dial is not None:
            dial.lost(f"modem lost: {reason}")
        elif call is not None:
            call._ended(f"modem lost: {reason}")

    def _on_urc(self, urc: p.Urc) -> None:
        with self._lock:
            dial = self._dial
            leg, transferring = self._leg, self._transferring
        about_a_call = isinstance(urc, p.CallEnded | p.CallBegan | p.Connected | p.Alerting
                                  | p.ClccUrc | p.MissedCall)
        if dial is not None and not dial.over and about_a_call:
            dial.urc(urc)  # about the call being placed
            return
        if transferring and about_a_call:
            # The transfer reads the call list to tell whose report it was; after a completed
            # one the module reports both calls gone, which is not the caller hanging up.
            if leg is not None and not leg.over:
                leg.urc(urc)
            return
        if isinstance(urc, p.Ring):
            self._ring()
        elif isinstance(urc, p.Clip):
            self._incoming(CallerId(urc.number, urc.withheld))
        elif isinstance(urc, p.Dtmf):
            with self._lock:
                call = self._call
            if call is not None:
                call._key(urc.digit)
        elif isinstance(urc, p.PlaybackDone):
            with self._lock:
                call = self._call
            if call is not None:
                call._playback_done(urc.source)
        elif isinstance(urc, p.RecordingStopped):
            with self._lock:
                call = self._call
            if call is not None:
                call._recording_stopped(urc.source, urc.detail)
        elif isinstance(urc, p.CallEnded | p.MissedCall):
            with self._lock:
                call = self._call
                self._last_ring = float("-inf")  # whatever rang has stopped ringing
            if call is not None:
                call._ended("remote" if isinstance(urc, p.CallEnded) else "missed")
            elif isinstance(urc, p.MissedCall) and urc.number:
                self._missed(CallerId(urc.number))
        elif isinstance(urc, p.NewSms):
            self._read_sms(urc.storage, urc.index)
        elif isinstance(urc, p.NetworkTime):
            self._network_time(urc.utc)
        elif isinstance(urc, p.TimeZoneHint):
            self.driver.submit(Command(self.profile.time_query,
                                       expect=(self.profile.time_prefix,),
                                       on_done=self._time_response))
        elif isinstance(urc, p.Registration):
            self._set_registration(urc.stat)
        elif isinstance(urc, p.Boot | p.PowerDown):
            self._rebooted(urc.word)
        elif isinstance(urc, p.SimState):
            self._sim_urc(urc.state)
        elif isinstance(urc, p.Unknown):
            # Masked: an unclaimed line can carry a number (+CCWA, +COLP forms).
            log.debug("modem: unclaimed line %r", _NUMBERS.sub("…", urc.text[:40]))

    def _ring(self) -> None:
        now = time.monotonic()
        with self._lock:
            self._last_ring = now
            call = self._call
            if call is None:
                self._unknown_rings.ring(now)
        if call is not None:
            call._rang(now)  # still ringing: an empty call list alone does not end it
            return
        # RING without +CLIP happens (CLIP off after a reset, some networks): ask the call
        # list; when +CLIP does come first, the call already exists and this is ignored.
        self.driver.submit(Command("AT+CLCC", expect=("+CLCC",), on_done=self._ring_clcc))

    def _ring_clcc(self, response: Response) -> None:
        for line in response.lines:
            entry = p.parse_clcc(line)
            if entry and entry.incoming and entry.stat in (4, 5):
                self._incoming(CallerId(entry.number, entry.number is None))
                return
        with self._lock:
            due = self._call is None and self._unknown_rings.due
        if due:
            # No +CLIP and not listed (firmware that lists ringing calls late or never): the
            # RINGs alone prove a call; answer it rather than let it ring out.
            log.info("modem: %d RINGs with no caller id and no call listed; taking the call "
                     "(caller unknown)", self._unknown_rings.needed)
            self._incoming(CallerId(None, withheld=False))

    def _incoming(self, caller: CallerId) -> None:
        with self._lock:
            if self._call is not None or self._on_call is None:
                return
            call = ModemCall(self, caller)
            self._call = call
            self._unknown_rings.reset()
        log.info("modem: incoming call from %s", redact(caller.number))
        self._poll_now.set()
        self._on_call(call)

    def _missed(self, caller: CallerId) -> None:
        """A call that rang and was given up before the line knew of it (SIM7600
        ``MISSED_CALL`` with no RING/+CLIP seen): the server still hears of it, as a call
        already gone, so the caller can be called back."""
        if self._on_call is None:
            return
        call = ModemCall(self, caller)
        call._ended("missed")
        log.info("modem: missed call from %s", redact(caller.number))
        self._on_call(call)

    def call_finished(self, call: ModemCall) -> None:
        with self._lock:
            if self._call is call:
                self._call = None
                self._last_ring = float("-inf")

    def _rebooted(self, word: str) -> None:
        with self._lock:
            call, dial, leg = self._call, self._dial, self._leg
            was_ready = self._initialised
            self._initialised = False
            restarted = was_ready or word in ("RDY", "START") or word.endswith("POWER DOWN")
            if restarted:
                self._state, self._detail = "starting", f"module restarted ({word})"
        if restarted and self.driver.on_port_thread:
            self.driver.abandon_in_flight()
        if leg is not None:
            leg.lost(f"module restarted ({word})")
        if dial is not None:
            dial.lost(f"module restarted ({word})")
        elif call is not None:
            call._ended("modem reboot")
        if was_ready:
            log.warning("modem: module restarted (%s); initialising again", word)
        self._needs_init.set()

    def _sim_urc(self, state: str) -> None:
        with self._lock:
            self._facts["sim"] = _sim_words(state)
        if state == "READY":
            with self._lock:
                ready = self._initialised
            if ready:
                self._rebooted("+CPIN: READY")
            else:
                self._needs_init.set()
        else:
            self._rebooted(f"+CPIN: {state}")

    def _read_sms(self, storage: str, index: int, *, selected: bool = False) -> None:
        def read(response: Response) -> None:
            if response.ok and not response.lines and not selected:
                # A bare OK: that index is empty in the storage AT+CMGR reads. Some modules
                # file messages in another one ("ME") than reads go to ("SM" at boot): read
                # (and then delete) where +CMTI said it is.
                self.driver.submit(Command(f'AT+CPMS="{storage}"', expect=("+CPMS",),
                                           on_done=select))
                return
            if not response.ok or not response.lines:
                log.warning("modem: SMS %s/%d could not be read (%s)", storage, index,
                            response.final if not response.ok else "empty")
                return
            header = p.parse_cmgr_header(response.lines[0])
            if header is None:
                return
            text = "\n".join(response.lines[1:])
            if header.dcs == 8 or (header.dcs is None and text and not text.isascii()):
                text = p.decode_ucs2_hex(text.replace("\n", "")) or text
            try:
                self.context.on_sms(header.sender, text)
            finally:
                # Delete only once the server took it: storage is small (SIM: ~20-50).
                self.driver.submit(Command(f"AT+CMGD={index}"))

        def select(response: Response) -> None:
            if response.ok:
                self._read_sms(storage, index, selected=True)
            else:
                log.warning("modem: SMS storage %s not selectable (%s)", storage,
                            response.final)

        self.driver.submit(Command(f"AT+CMGR={index}", expect=("+CMGR",), body_lines=True,
                                   timeout=MEDIUM_S, on_done=read))

    def _time_response(self, response: Response) -> None:
        for line in response.lines:
            urc = p.classify_late(line)
            if isinstance(urc, p.NetworkTime):
                self._network_time(urc.utc)

    def _network_time(self, utc: datetime) -> None:
        with self._lock:
            self._facts["network_time"] = utc.isoformat()
        self.context.on_network_time(utc)

    def _set_registration(self, stat: int) -> None:
        with self._lock:
            self._facts["registration"] = p.REGISTRATION_WORDS.get(stat, str(stat))
            self._facts["registered"] = stat in (1, 5)
            if self._initialised:
                self._state, self._detail = _state_for(stat)

    # ------------------------------------------------------------------ supervisor

    def _supervise(self) -> None:
        next_status = 0.0
        next_clcc = 0.0
        while not self._stopped.is_set():
            if self._needs_init.is_set():
                self._needs_init.clear()
                if self._stopped.is_set():
                    return
                if self.driver.stats.state == "up":
                    self._initialise()
                    next_status = time.monotonic() + self.settings.status_poll_s
                continue
            now = time.monotonic()
            with self._lock:
                call, ready = self._call, self._initialised
            if call is not None and now >= next_clcc:
                next_clcc = now + self.settings.clcc_poll_s
                self._reconcile(call)
            if ready and now >= next_status:
                next_status = now + self.settings.status_poll_s
                self._poll_status()
            if ready and call is None and self._prompts_due:
                self._sync_prompts(full=self._prompts_due == "full")
            wait = min(next_status, next_clcc if call else next_status) - time.monotonic()
            self._poll_now.wait(max(0.05, min(wait, 1.0)))
            self._poll_now.clear()

    def _initialise(self) -> None:
        with self._lock:
            self._state, self._detail = "starting", "initialising the module"
        ex = self.driver.execute
        # SIM800 auto-bauds: it learns the rate from the first "AT"s.
        if not any(ex("AT").ok for _ in range(5)):
            self._set("degraded", "the module does not answer AT; retrying")
            return
        ex("ATE0")
        ex("AT+CMEE=1")
        if not self._sim_ready():
            return
        for command in self.profile.init:
            response = self._retrying(command)
            if not response.ok:
                self._set("degraded", f"module refused {command} ({response.final}); retrying")
                self._needs_init.set()
                self._stopped.wait(2.0)
                return
        for command in self.profile.optional_init:
            response = ex(command)
            if not response.ok:
                log.info("modem: optional %s not supported (%s)", command, response.final)
        self._enable_dtmf()
        self._identify()
        with self._lock:
            self._initialised = True
        self._poll_status()
        log.info("modem: %s ready on %s", self.profile.title, self.settings.port)
        self._sync_prompts(full=True)

    def _enable_dtmf(self) -> None:
        """Turn DTMF reports on. A refusal does not stop the line: some firmware answers ERROR
        and reports keys all the same, and keys are taken whenever they come. Whether the
        module agreed is a fact for doctor; agreeing is no proof either (some SIM800L answer
        OK and never report): ``doctor --dtmf-test`` finds both."""
        refused = [c for c in self.profile.dtmf_enable if not self.driver.execute(c).ok]
        if refused:
            log.warning("modem: the module refused %s; keys are still taken if it reports "
                        "them (check with 'edgecall doctor --dtmf-test')", ", ".join(refused))
        with self._lock:
            self._facts["dtmf_reporting"] = (
                "none" if not self.profile.dtmf_enable else "refused" if refused else "on")

    def _retrying(self, command: str, **kwargs: Any) -> Response:
        wait, waited = 0.25, 0.0
        while True:
            response = self.driver.execute(command, **kwargs)
            if response.cme not in _RETRY_CME or waited >= self.settings.init_retry_s:
                return response
            self._stopped.wait(wait)
            waited += wait
            wait = min(wait * 2, 4.0)

    def _sim_ready(self) -> bool:
        response = self._retrying("AT+CPIN?", expect=("+CPIN",))
        state = p.payload(response.lines[0], "+CPIN") if response.lines else ""
        if response.cme == 10 or state == "NOT INSERTED":
            return self._sim_problem("missing", "no SIM card: insert a SIM (power off first) "
                                     "and the line comes back by itself")
        if response.cme == 13:
            return self._sim_problem("failure", "SIM failure: clean/replace the SIM card")
        if state == "SIM PIN":
            if not self.settings.pin:
                return self._sim_problem("pin required", "the SIM asks for a PIN: set pin in "
                                         "[modem] or remove the PIN with a phone")
            # Never send a PIN the SIM refused once: the third wrong one locks it (PUK).
            result = None if self._pin_rejected else self.driver.execute(
                f'AT+CPIN="{self.settings.pin}"', timeout=MEDIUM_S)
            if result is None or result.cme == 16:
                self._pin_rejected = True
            if result is None or not result.ok:
                return self._sim_problem("pin rejected", "the SIM rejected the configured "
                                         "PIN: fix pin in [modem] (a 3rd wrong PIN locks it)")
            self._stopped.wait(1.0)
            return self._sim_ready()
        if state == "SIM PUK":
            return self._sim_problem("puk required", "the SIM is PUK-locked: unlock it in a "
                                     "phone with the PUK from the operator")
        if state != "READY":
            self._set("degraded", f"SIM not ready ({response.final or state}); retrying")
            self._needs_init.set()
            self._stopped.wait(2.0)
            return False
        with self._lock:
            self._facts["sim"] = "ready"
        return True

    def _sim_problem(self, words: str, detail: str) -> bool:
        with self._lock:
            self._facts["sim"] = words
        self._set("down", detail)
        return False

    def _identify(self) -> None:
        ex = self.driver.execute
        imei = ex("AT+CGSN", expect=("",))
        iccid = ex(self.profile.iccid, expect=(self.profile.iccid_prefix or "",))
        with self._lock:
            if imei.ok and imei.lines:
                self._facts["imei"] = imei.lines[0]
            if iccid.ok and iccid.lines:
                self._facts["iccid"] = p.payload(iccid.lines[0], self.profile.iccid_prefix) \
                    if self.profile.iccid_prefix else iccid.lines[0]
            identity = self._facts.get("imei") or self._facts.get("iccid")
        if self.prompts is not None and isinstance(identity, str):
            # What the module holds is kept by its IMEI: its storage goes where it goes.
            self.prompts.attach(identity)

    def _poll_status(self) -> None:
        ex = self.driver.execute
        csq = ex("AT+CSQ", expect=("+CSQ",))
        creg = ex("AT+CREG?", expect=("+CREG",))
        with self._lock:
            if csq.ok and csq.lines:
                rssi = p.parse_csq(csq.lines[0])
                self._facts["signal_dbm"] = p.csq_to_dbm(rssi) if rssi is not None else None
                self._facts["signal"] = p.signal_words(rssi)
        if creg.ok and creg.lines:
            stat = p.parse_creg_response(creg.lines[0])
            if stat is not None:
                self._set_registration(stat)
        # Asked at every poll, not only until it first comes: the clock trusts a network time
        # only once successive readings show it running with the monotonic clock (a module
        # clock can be frozen or days off); operators also send it late or never.
        self._time_response(ex(self.profile.time_query, expect=(self.profile.time_prefix,)))

    def _reconcile(self, call: ModemCall) -> None:
        """AT+CLCC: a call the module no longer lists has ended, whatever URC was lost (a
        ringing one only once that is confirmed: see ModemCall._listed). The answer is judged
        on the port thread, in order with the module's other output: an ATA queued behind this
        read then already finds the call as the read left it."""
        with self._lock:
            if self._reading_calls:
                return
            self._reading_calls = True

        def read(response: Response) -> None:
            with self._lock:
                self._reading_calls = False
            if not response.ok:
                return
            entries = [e for e in map(p.parse_clcc, response.lines) if e and e.voice]
            call._listed(any(e.stat != 6 for e in entries), time.monotonic())

        self.driver.submit(Command("AT+CLCC", expect=("+CLCC",), on_done=read))

    def _set(self, state: str, detail: str) -> None:
        with self._lock:
            self._state, self._detail = state, detail
        if state != "ready":
            log.warning("modem: %s", detail)


_NUMBERS = re.compile(r"\+?\d{6,}")


def _state_for(stat: int) -> tuple[str, str]:
    if stat in (1, 5):
        return "ready", "registered, answering calls" + (" (roaming)" if stat == 5 else "")
    if stat == 3:
        return "degraded", "the network denied registration: check the SIM's service/credit"
    if stat == 2:
        return "degraded", "searching for the network: check the antenna and coverage"
    return "degraded", "not registered on the network: check the SIM and antenna"


def _sim_words(state: str) -> str:
    return {"READY": "ready", "SIM PIN": "pin required", "SIM PUK": "puk required",
            "NOT INSERTED": "missing", "NOT READY": "not ready"}.get(state, state.lower())
