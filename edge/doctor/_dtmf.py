"""``edgecall doctor --dtmf-test``: the technician calls the box and presses every key; the
report says which keys arrived, which did not, and which came twice (operators and modems
differ in how they carry DTMF)."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Sequence
from typing import Any

from edge.lines import Call, CallGone, KeyPressed, Line, RemoteHangup, Utterance

from ._result import CheckResult, fail, ok, warn

EXPECTED = "1234567890*#"
PROMPT = Utterance("doctor.dtmf", "en", "Key test. Press one, two, three, four, five, six, "
                   "seven, eight, nine, zero, star, then hash.")


def collect_keys(call: Call, limit_s: float, mono: Callable[[], float] = time.monotonic) -> str:
    """Answer, ask for the keys, gather them until '#' after the others, hang-up or limit."""
    call.answer()
    call.play(1, [PROMPT])
    keys = ""
    deadline = mono() + limit_s
    while (left := deadline - mono()) > 0:
        event = call.next_event(min(left, 0.5))
        if isinstance(event, RemoteHangup):
            break
        if isinstance(event, KeyPressed):
            keys += event.digit
            if keys.endswith("#") and len(keys) >= len(EXPECTED):
                break
    call.hang_up()
    return keys


Advice = Callable[[str], str | None]


def judge(keys: str, advice: Advice | None = None) -> CheckResult:
    """``advice(case)``, from the line the call came on, words the fix its own way for
    ``none`` (no key), ``missing`` and ``irregular``; the defaults fit a SIP gateway."""

    def fix(case: str, default: str) -> str:
        return (advice(case) if advice else None) or default

    missing = [k for k in EXPECTED if k not in keys]
    doubled = sorted({k for k in keys if keys.count(k) > 1})
    facts = {"received": keys, "missing": "".join(missing), "doubled": "".join(doubled)}
    if not keys:
        return fail("dtmf test", "no key arrived", fix(
                    "none", "check DTMF reporting: [sip] dtmf mode / gateway RFC 2833 setting, "
                    "or the modem's DTMF detection (AT+DDET / AT+QTONEDET); some operators do not "
                    "carry tones at all"), **facts)
    if missing:
        return fail("dtmf test", f"received {keys!r}; missing {''.join(missing)!r}", fix(
                    "missing", "press each key firmly for half a second; if keys stay missing, "
                    "try another DTMF mode (rfc2833, info, inband) or SIM"), **facts)
    if doubled or keys != EXPECTED:
        return warn("dtmf test", f"received {keys!r}: every key, but some repeated or out of "
                    "order", fix("irregular", "hold keys shorter; if doubles persist, report the "
                                 "gateway model"), **facts)
    return ok("dtmf test", "all 12 keys arrived once, in order", **facts)


def _advice_of(lines: Sequence[Line], name: str) -> Advice | None:
    # A line kind may word its own advice (a modem has no DTMF mode to change) with an optional
    # dtmf_advice(case) method; edge/ never knows which kinds exist.
    line: Any = next((line for line in lines if line.name == name), None)
    advice = getattr(line, "dtmf_advice", None)
    return advice if callable(advice) else None


def dtmf_test(lines: Sequence[Line], wait_s: float, limit_s: float = 60.0,
              announce: Callable[[str], None] = print) -> CheckResult:
    """Start the lines, wait up to ``wait_s`` for a call, run the key test on it."""
    calls: queue.Queue[Call] = queue.Queue()
    for line in lines:
        line.start(calls.put)
    announce(f"Call the box now (waiting {wait_s:.0f} s) and press 1 2 3 4 5 6 7 8 9 0 * #.")
    try:
        # Lines stop only after the test: stopping a modem line ends its call.
        try:
            call = calls.get(timeout=wait_s)
        except queue.Empty:
            return fail("dtmf test", f"no call arrived within {wait_s:.0f} s",
                        "check that the gateway forwards calls to the box or that the modem "
                        "has signal and registration (see the checks above)")
        try:
            keys = collect_keys(call, limit_s)
        except CallGone:
            return fail("dtmf test", "the call ended before it was answered", "call again")
        return judge(keys, _advice_of(lines, call.line_name))
    finally:
        for line in lines:
            line.stop()
