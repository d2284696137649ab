"""Calls the simulated module places (``ATD<number>;``) and the phones at the far end.

What the module says follows its manual (see hardware/modem/_dialing.py for the sources):
with ``AT+COLP=0`` (factory default) ``OK`` at once, then the call's progress in ``AT+CLCC``
(stat 2 dialling, 3 alerting, 0 active) and its end as ``BUSY``, ``NO ANSWER`` or
``NO CARRIER``; with ``AT+COLP=1`` (or the ``atd_ok_late`` variant) ATD's own final result
says how it went (``+COLP: ...`` and ``OK`` once connected). ``BUSY``/``NO DIALTONE`` read
``NO CARRIER`` unless ``ATX3``/``ATX2`` (or ``ATX4``) asked for them. SIM800 with
``AT+MORING=1`` also says ``MO RING``/``MO CONNECTED``; SIM7600 ``VOICE CALL: BEGIN``/``END``.
"""

from __future__ import annotations

from dataclasses import dataclass

PHONE_BEHAVIOURS = ("answers", "busy", "no-answer", "rejects", "unreachable", "no-dialtone")


@dataclass(frozen=True)
class SimPhone:
    """The phone a dialled number reaches. ``rings``: RINGs (one per ``ring_interval``) before
    it answers or rejects, or before the network gives up (``no-answer``: None rings on until
    the module hangs up). Once it answered, it presses each group of ``keys`` once a new
    prompt has been played and the line has been quiet for ``quiet_s``, then hangs up
    ``hang_up_after_s`` after the last group (None: the box hangs up)."""

    behaviour: str = "answers"
    rings: int | None = 2
    keys: tuple[str, ...] = ()
    quiet_s: float = 0.3
    hang_up_after_s: float | None = None

    def __post_init__(self) -> None:
        if self.behaviour not in PHONE_BEHAVIOURS:
            raise ValueError(f"unknown phone behaviour {self.behaviour!r}; known: "
                             + ", ".join(PHONE_BEHAVIOURS))


@dataclass
class Script:
    """Key groups a far end presses, one per prompt heard."""

    groups: list[str]
    quiet_s: float
    hang_up_after_s: float | None
    prompts_seen: int = 0  # prompts begun when the last group was pressed
    quiet_from: float | None = None  # since when no prompt plays (after a new one)
    hangup_at: float | None = None


@dataclass
class Dialled:
    """The progress of a call the module placed."""

    phone: SimPhone
    stage: str = "setup"  # setup, alerting, active
    next_at: float | None = None  # when it moves on
    atd_pending: bool = False  # ATD has not had its final result yet
    script: Script | None = None
    rang: int = 0


class OutgoingCalls:
    """Mixin of :class:`ModemModel` (whose call, clock, output and key presses it uses):
    ATD, the dialled call's progress, the far end's keys."""

    dial_setup_s = 0.3  # from ATD to the far end ringing (or the network's refusal)

    def _init_outgoing(self) -> None:
        self.phones: dict[str, SimPhone] = {}
        self.default_phone = SimPhone()
        self.dialled: list[str] = []  # numbers dialled, in order

    def phone_for(self, number: str) -> SimPhone:
        return self.phones.get(number, self.default_phone)

    # ---- commands

    def _at_D(self, arg: str) -> None:
        number = arg.rstrip(";").strip()
        self.dialled.append(number)
        phone = self.phone_for(number)
        if self.call is not None and not self._may_dial_beside():
            self._error(3)  # beside a ringing or dialled call, or a third call
            return
        if not arg.endswith(";"):
            self._final("NO CARRIER")  # a data call: none here
            return
        registered = self.sim_unlocked and self.reg in (1, 5)
        if phone.behaviour == "no-dialtone" or not registered:
            self._final("NO DIALTONE" if self.atx in (2, 4) else "NO CARRIER")
            return
        late = self.colp == 1 or "atd_ok_late" in self.variants
        self._hold_for_dial()  # an active call goes on hold first (see _transfer)
        self.call = self._new_call(number, outgoing=True)
        self.call.dialled = Dialled(phone, next_at=self._now + self.dial_setup_s,
                                    atd_pending=late)
        if not late:
            self._reply()

    def _at_COLP(self, arg: str) -> None:
        if arg == "?":
            self._reply([f"+COLP: {self.colp},1"])
            return
        self.colp = self._int_arg(arg, 0)
        self._reply()

    def _at_X(self, arg: str) -> None:
        self.atx = self._int_arg(arg, 0)
        self._reply()

    def _at_MORING(self, arg: str) -> None:
        self.moring = self._int_arg(arg, 0) == 1
        self._reply()

    def abort_dial(self) -> bool:
        """A character while ATD waits for its result aborts the dial (V.25ter)."""
        call = self.call
        dialled = getattr(call, "dialled", None)
        if dialled is None or not dialled.atd_pending:
            return False
        self.call = None
        self._promote_held()
        self._final("NO CARRIER")
        return True

    # ---- time

    def _outgoing_due(self) -> list[float]:
        dialled = getattr(self.call, "dialled", None)
        if dialled is None:
            return []
        due = [t for t in (dialled.next_at,) if t is not None]
        script = dialled.script
        if script is not None:
            if script.quiet_from is not None:
                due.append(script.quiet_from + script.quiet_s)
            if script.hangup_at is not None:
                due.append(script.hangup_at)
        return due

    def _advance_outgoing(self, now: float) -> None:
        call = self.call
        dialled = getattr(call, "dialled", None)
        if dialled is None:
            return
        if dialled.next_at is not None and now >= dialled.next_at:
            dialled.next_at = None
            self._progress(dialled, now)
        if dialled.script is not None and self.call is call:
            self._script_turn(dialled.script, now)

    def _progress(self, dialled: Dialled, now: float) -> None:
        phone = dialled.phone
        if dialled.stage == "setup":
            if phone.behaviour == "busy":
                self._dial_over(dialled, "BUSY" if self.atx in (3, 4) else "NO CARRIER")
                return
            if phone.behaviour == "unreachable":
                self._dial_over(dialled, "NO CARRIER")
                return
            dialled.stage = "alerting"
            if self.moring:
                self.urc("MO RING")
            if phone.rings is not None:
                dialled.next_at = now + phone.rings * self.ring_interval
            return
        if dialled.stage != "alerting":
            return
        if phone.behaviour == "rejects":
            self._dial_over(dialled, "NO CARRIER")
        elif phone.behaviour == "no-answer":
            self._dial_over(dialled, "NO ANSWER")
        else:
            self._connect(dialled, now)

    def _connect(self, dialled: Dialled, now: float) -> None:
        call = self.call
        dialled.stage = "active"
        call.state = "active"
        call.started = now
        if dialled.atd_pending:
            dialled.atd_pending = False
            info = [f'+COLP: "{call.number}",{_kind(call.number)},"",0,""'] \
                if self.colp == 1 else []
            self._reply(info)
        if self.moring:
            self.urc("MO CONNECTED")
        if self.profile.voice_call_urcs:
            self.urc("VOICE CALL: BEGIN")
        phone = dialled.phone
        if phone.keys or phone.hang_up_after_s is not None:
            dialled.script = Script(list(phone.keys), phone.quiet_s, phone.hang_up_after_s,
                                    prompts_seen=self.prompts_started)
            if not phone.keys and phone.hang_up_after_s is not None:
                dialled.script.hangup_at = now + phone.hang_up_after_s

    def _dial_over(self, dialled: Dialled, result: str) -> None:
        """The dialled call ends before it connected: ``result`` as ATD's final result, or as
        an unsolicited result after an early OK."""
        self.call = None
        self._promote_held()  # a held call stays, held
        if dialled.atd_pending:
            self._final(result)
        else:
            self.urc(result)

    def _script_turn(self, script: Script, now: float) -> None:
        if script.hangup_at is not None:
            if now >= script.hangup_at:
                script.hangup_at = None
                self.remote_hangup()
            return
        if not script.groups:
            return
        if self.prompt_playing() or self.prompts_started == script.prompts_seen:
            script.quiet_from = None
            return
        if script.quiet_from is None:
            script.quiet_from = now
        if now - script.quiet_from < script.quiet_s:
            return
        script.quiet_from = None
        script.prompts_seen = self.prompts_started
        self.press(script.groups.pop(0))
        if not script.groups and script.hang_up_after_s is not None:
            script.hangup_at = now + script.hang_up_after_s


def _kind(number: str | None) -> int:
    return 145 if (number or "").startswith("+") else 129
