"""Call hold and explicit call transfer (ECT) in the simulated module: a second call beside a
held one, ``AT+CHLD`` and a ``+CLCC`` line per call. Written from the manuals and the 3GPP
specifications below, not from our driver:

- 3GPP TS 27.007 s.7.13 (+CHLD): the values are those of 3GPP TS 22.030 s.6.5.5.1 (0, 1, 1x,
  2, 2x, 3, 4; "x" a call number); the test command lists the supported ones. s.7.18
  (+CLCC): one line per call, <stat> 0 active, 1 held, 2 dialling, 3 alerting, 4 incoming.
- 3GPP TS 22.030 s.6.5.5.1: a number dialled while a call is active puts that call on hold
  and sets up the new one; "x" numbers calls in the order they were set up, a call keeps its
  number until released and a new call takes the lowest free one. 3GPP TS 22.083 s.2 (HOLD):
  one held and one active call at most.
- 3GPP TS 22.091 and TS 24.091 s.4.1 (ECT): with one held call and one active or alerting
  call, the network connects the two, confirms, then disconnects the served subscriber from
  both calls; a request it does not accept gets an error and leaves both calls as they were.
- SIM800 Series AT Command Manual V1.09: s.2.2.3 ATD ("Using ATD during an active voice call:
  ... the first call will be automatically put on hold"); s.3.2.14 AT+CHLD (<n> 0, 1, 1x, 2,
  2x, 3 and 4, "Connects the two calls and disconnects the subscriber from both calls (ECT)";
  the test command gives "+CHLD: (list of supported <n>s)", no list printed); p.73 AT+CLCC
  (<idx> 1..7 "can be used in +CHLD command operations").
- Quectel EC25&EC21 AT Commands Manual s.11.3 AT+CHLD (HOLD, MPTY and ECT after 22.083,
  22.084 and 22.091; at most 300 ms to answer).
- SIMCom SIM7500/SIM7600 Series AT Command Manual V1.07 AT+CHLD: "+CHLD: (0,1,1x,2,2x,3,4)";
  a bare ``AT+CHLD`` means <n>=2.
- SIM900 AT Commands Manual V1.07 p.250 (the SIMCom example of two calls): ``AT+CHLD=12`` and
  ``AT+CHLD=11`` answer ``OK`` and nothing more; "Held calls are not automatically resumed
  when all other calls are terminated".
- ATH and AT+CHUP end every call: ITU-T V.250 hook control ("ATH is terminating any call in
  progress"), SIM900 ``ATH0`` ("Disconnect ALL calls"), ``AT+CHUP`` "Cancels all active and
  held calls" (Multi-Tech/Cinterion AT manual s.7.10; Huawei MU509 s.9.6).

What the model chooses where the sources are silent, marked (verify) in the code: a release
the TE commands (``AT+CHLD=0/1/1x``) answers ``OK`` with no ``NO CARRIER`` (the SIM900 example,
and as ``ATH`` does here); after ECT the network clears both calls, so each ends as when its
far end hangs up (``NO CARRIER``; ``VOICE CALL: END: <duration>`` first on a SIM7600 for an
answered call); a refused or impossible request is ``+CME ERROR: 3`` (operation not allowed),
an unsupported value ``+CME ERROR: 4`` (``ERROR`` without ``AT+CMEE=1``). Multiparty
(``AT+CHLD=3``) is not modelled: the simulated network refuses it.

How the model holds its calls: ``self.call`` is the call in the foreground (the active one,
or the one being dialled), or the only call even when held; ``self.held`` is the held call
while there are two. Code for one call never sees ``self.held``.
"""

from __future__ import annotations

from ._calls import Call

_MAX_CALLS = 2  # HOLD: one held call and one other


class CallHold:
    """Mixin of :class:`ModemModel` (whose calls, clock and output it uses): AT+CHLD, the
    second call, ECT and the far end of a given call hanging up."""

    def _init_transfer(self) -> None:
        self.held: Call | None = None
        self.transferred: list[tuple[str | None, str]] = []  # (held party, other party)

    # ---- the calls

    def calls(self) -> list[Call]:
        """Every call the module has, by call number (the ``+CLCC`` order)."""
        return sorted((c for c in (self.call, self.held) if c is not None),
                      key=lambda c: c.index)

    def call_number(self, index: int) -> Call | None:
        """The call with that call number (``x`` of ``AT+CHLD=1x``), if any."""
        return next((c for c in self.calls() if c.index == index), None)

    def _free_index(self) -> int:
        """22.030 s.6.5.5.1: a new call takes the lowest number not in use."""
        used = {c.index for c in self.calls()}
        return next(i for i in range(1, _MAX_CALLS + 2) if i not in used)

    def _promote_held(self) -> None:
        """The foreground call is gone: the held call (still held) is the only one."""
        if self.call is None and self.held is not None:
            self.call, self.held = self.held, None

    def _drop(self, call: Call) -> None:
        """``call`` leaves the module; what belonged to the foreground call stops with it."""
        if call is self.held:
            self.held = None
            return
        self._recording_over_by_call()
        self.call = None
        self._keys.clear()
        self._stop_tts()
        self._stop_file()
        self._promote_held()

    # ---- ATD beside a call (hooks of OutgoingCalls._at_D)

    def _may_dial_beside(self) -> bool:
        """Whether a second call may be set up: the only call is active or held (22.030
        s.6.5.5.1, SIM800 V1.09 s.2.2.3); not beside a ringing or dialled call nor a third."""
        call = self.call
        return call is not None and self.held is None and call.state in ("active", "held") \
            and (call.dialled is None or call.dialled.stage == "active")

    def _hold_for_dial(self) -> None:
        """Put the only call on hold (if it is not already) before the new one is set up."""
        call = self.call
        if call is None:
            return
        call.state = "held"
        self.held, self.call = call, None
        self._keys.clear()  # a held party's keys reach nobody

    # ---- AT+CHLD

    def _chld_values(self) -> tuple[str, ...]:
        values = self.profile.chld
        if "no_ect" in self.variants:
            values = tuple(v for v in values if v != "4")
        return values

    def _at_CHLD(self, arg: str) -> None:
        if arg == "=?":
            self._reply([f"+CHLD: ({','.join(self._chld_values())})"])
            return
        value = arg.lstrip("=").strip() or "2"  # SIM7600 V1.07: a bare AT+CHLD is <n>=2
        if not value.isdigit() or len(value) > 2:
            self._final("ERROR")
            return
        form = value[0] + ("x" if len(value) == 2 else "")
        if form not in self._chld_values():
            self._error(4)  # not supported by this module (verify: the code)
            return
        index = int(value[1]) if len(value) == 2 else None
        action = {"0": self._release_held, "1": self._release_active,
                  "2": self._hold_or_swap, "4": self._transfer}.get(value[0])
        cleared = action(index) if action is not None else None  # 3: multiparty, not modelled
        if cleared is None:
            self._error(3)  # operation not allowed (verify: the code modules send)
            return
        self._reply()
        # The network's clearing reaches the module after its confirmation (verify: one
        # report per call, the same as when that call's far end hangs up).
        for call in cleared:
            self._cleared_report(call)

    def _release_held(self, index: int | None) -> list[Call] | None:
        """0: release the held call; 0x is not a 27.007 value. Like every action here: None
        when not allowed, else the calls the network clears (reported after the OK)."""
        held = self.held or (self.call if self.call and self.call.state == "held" else None)
        if index is not None or held is None:
            return None
        self._drop(held)  # commanded: OK and no NO CARRIER (verify)
        return []

    def _release_active(self, index: int | None) -> list[Call] | None:
        """1: release the active (or dialled) call and retrieve the held one; 1x: release
        call x only, a held call stays held (SIM900 V1.07 p.250)."""
        if index is not None:
            call = self.call_number(index)
            if call is None or (call.state == "ringing" and call.dialled is None):
                return None  # an incoming call is answered or rejected, not released here
            self._drop(call)
            return []
        call = self.call
        if call is None or (call.state == "ringing" and call.dialled is None):
            return None
        if call.state != "held":
            self._drop(call)
        if self.call is not None and self.call.state == "held":
            self._retrieve(self.call)
        return []

    def _hold_or_swap(self, index: int | None) -> list[Call] | None:
        """2: hold the active call and retrieve the held one (either may be missing); 2x:
        only call x stays (or becomes) active."""
        call, held = self.call, self.held
        if call is None or call.state not in ("active", "held"):
            return None  # nothing answered to hold; a dialled call cannot be held
        if index is not None:
            chosen = self.call_number(index)
            if chosen is None:
                return None
            if chosen.state == "active":
                return []  # it is the active one already: nothing to hold
        if held is not None:  # swap: the held one comes back, the active one waits
            call.state = "held"
            self._keys.clear()
            self.call, self.held = held, call
            self._retrieve(held)
        elif call.state == "active":
            call.state = "held"
            self._keys.clear()
        else:
            self._retrieve(call)
        return []

    def _retrieve(self, call: Call) -> None:
        call.state = "active"

    def _transfer(self, index: int | None) -> list[Call] | None:
        """4 (ECT, 22.091): one held call and one active or alerting call; the network joins
        them, confirms, then clears both calls towards the module (24.091 s.4.1)."""
        held, other = self.held, self.call
        if index is not None or held is None or other is None:
            return None
        alerting = other.dialled is not None and other.dialled.stage == "alerting"
        if other.state != "active" and not alerting:
            return None
        if "ect_refused" in self.variants:
            return None  # the network rejects it; both calls as they were (24.091 s.4.1)
        self.transferred.append((held.number, other.number or ""))
        both = sorted((held, other), key=lambda c: c.index)
        for call in both:
            self._drop(call)
        return both

    def _cleared_report(self, call: Call) -> None:
        """What the module says when the network clears ``call``: as a far end hanging up."""
        answered = call.dialled is None or call.dialled.stage == "active"
        if answered and self.profile.voice_call_urcs:
            self.urc(f"VOICE CALL: END: {int(self._now - call.started):06d}")
        self.urc("NO CARRIER")

    # ---- the outside world

    def party_hangs_up(self, index: int = 1) -> None:
        """The far end of call ``index`` hangs up (1: the first call, the held caller of a
        transfer), whatever the other call is doing: only that call ends, with the module's
        usual report."""
        call = self.call_number(index)
        if call is None:
            return
        if call is self.call:
            self.remote_hangup()
            return
        self._drop(call)
        self._cleared_report(call)

    def caller_hangs_up(self) -> None:
        """The first caller (call 1) hangs up, held or not."""
        self.party_hangs_up(1)
