"""Our non-INVITE client transactions (RFC 3261 17.1.2) on an injected clock: the sans-IO object
and the adapter that runs it on a socket."""

from __future__ import annotations

from typing import Any

from hardware.sip._compat._message import RobustSIPMessage
from hardware.sip._compat._outbound import Outbound
from hardware.sip._compat._transaction import Action, NonInviteTransaction, State


def run(t: NonInviteTransaction, until: float, step: float = 0.01) -> list[tuple[float, Action]]:
    """Tick every ``step`` s; the times something happened."""
    events = []
    for n in range(1, round(until / step) + 1):
        action = t.tick(n * step)
        if action is not Action.NOTHING:
            events.append((round(n * step, 2), action))
    return events


def test_retransmits_doubling_to_t2_then_gives_up_at_64_t1():
    t = NonInviteTransaction()
    t.sent(0.0)
    events = run(t, 40)
    assert [when for when, a in events if a is Action.RETRANSMIT] == [
        0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert events[-1] == (32.0, Action.GIVE_UP)
    assert t.terminated and t.due() is None


def test_provisional_response_retransmits_at_t2():
    t = NonInviteTransaction()
    t.sent(0.0)
    assert t.tick(0.5) is Action.RETRANSMIT
    assert t.response(100, 0.6) is Action.NOTHING and t.state is State.PROCEEDING
    assert t.tick(1.4) is Action.NOTHING
    assert t.tick(1.5) is Action.RETRANSMIT  # E was still due at 1.5 (set before the 100)
    assert t.tick(5.4) is Action.NOTHING
    assert t.tick(5.5) is Action.RETRANSMIT  # then every T2


def test_final_response_is_done_once_and_later_copies_absorbed():
    t = NonInviteTransaction()
    t.sent(0.0)
    assert t.response(200, 0.7) is Action.DONE and t.final == 200
    assert t.response(200, 0.8) is Action.NOTHING  # a retransmitted 200
    assert run(t, 10) == []  # no retransmission after the answer
    assert t.terminated  # timer K (T4 = 5 s) ended it


def test_a_4xx_also_ends_it():
    t = NonInviteTransaction(t1=0.1)
    t.sent(0.0)
    assert t.response(481, 0.05) is Action.DONE and t.final == 481


def response(branch: str, method: str = "BYE", code: int = 200) -> RobustSIPMessage:
    return RobustSIPMessage(
        f"SIP/2.0 {code} OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch={branch};rport\r\n"
        f"From: <sip:s@127.0.0.1>;tag=a\r\nTo: <sip:c@127.0.0.1>;tag=b\r\nCall-ID: x\r\n"
        f"CSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n".encode())


def test_adapter_sends_resends_and_matches_by_branch_and_method():
    now = [0.0]
    sent: list[tuple[bytes, Any]] = []
    outcomes: list[Any] = []
    out = Outbound(lambda data, dest: sent.append((data, dest)), mono=lambda: now[0])
    pending = out.start(b"BYE", ("127.0.0.1", 5070), "z9hG4bKone", "BYE",
                        on_final=outcomes.append)
    assert sent == [(b"BYE", ("127.0.0.1", 5070))] and out.busy() == 1
    for now[0] in (0.4, 0.5, 1.0, 1.5):
        out.run_timers()
    assert len(sent) == 3  # at 0, 0.5 and 1.5 s
    assert out.due() == 3.5
    assert not out.on_response(response("z9hG4bKother"))  # another transaction: not ours
    assert not out.on_response(response("z9hG4bKone", method="INVITE"))
    assert out.on_response(response("z9hG4bKone"))
    assert pending.done and int(pending.response.status) == 200
    assert len(outcomes) == 1 and out.busy() == 0
    assert out.on_response(response("z9hG4bKone"))  # its retransmission, absorbed
    assert len(outcomes) == 1
    now[0] = 40.0
    out.run_timers()
    assert len(sent) == 3 and out.due() is None


def test_adapter_gives_up_with_none():
    now = [0.0]
    outcomes: list[Any] = []
    out = Outbound(lambda data, dest: None, mono=lambda: now[0])
    pending = out.start(b"BYE", ("127.0.0.1", 5070), "b", "BYE", on_final=outcomes.append,
                        t1=0.1)
    now[0] = 6.5
    out.run_timers()
    assert pending.done and pending.response is None and outcomes == [None]
