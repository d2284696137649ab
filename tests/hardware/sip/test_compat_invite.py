"""Our INVITE client transaction (RFC 3261 17.1.1, RFC 6026) on an injected clock, the requests
of a call we place (INVITE, CANCEL, ACKs, BYE) and the adapter that runs them on a socket."""

from __future__ import annotations

from typing import Any

from hardware.sip._compat._dialog import Dialog, Identity, InviteRequest, tag_of
from hardware.sip._compat._invite import TIMER_D, InviteTransaction, State, Step
from hardware.sip._compat._invites import InviteClient
from hardware.sip._compat._message import RobustSIPMessage
from hardware.sip._compat._routeset import RouteSet


def run(t: InviteTransaction, until: float, start: float = 0.0,
        step: float = 0.01) -> list[tuple[float, Step]]:
    events = []
    for n in range(1, round((until - start) / step) + 1):
        now = round(start + n * step, 2)
        action = t.tick(now)
        if action is not Step.NOTHING:
            events.append((now, action))
    return events


def test_timer_a_doubles_until_timer_b_gives_up():
    t = InviteTransaction()
    t.sent(0.0)
    events = run(t, 40)
    assert [when for when, s in events if s is Step.RETRANSMIT] == [0.5, 1.5, 3.5, 7.5, 15.5,
                                                                    31.5]
    assert events[-1] == (32.0, Step.TIMEOUT)
    assert t.terminated and t.due() is None


def test_a_provisional_stops_retransmission_and_timer_b():
    t = InviteTransaction()
    t.sent(0.0)
    assert t.tick(0.5) is Step.RETRANSMIT
    assert t.response(100, 0.7) is Step.PROVISIONAL and t.state is State.PROCEEDING
    assert t.response(180, 1.0) is Step.PROVISIONAL
    assert run(t, 120, start=1.0, step=0.5) == []  # rings as long as the TU lets it
    assert t.due() is None


def test_after_cancel_the_final_answer_gets_64_t1():
    t = InviteTransaction()
    t.sent(0.0)
    t.response(180, 0.1)
    t.cancelled(30.0)
    assert t.due() == 62.0
    assert run(t, 63, start=30.0, step=0.5)[-1] == (62.0, Step.TIMEOUT)


def test_error_answer_is_acked_and_its_copies_acked_again_until_timer_d():
    t = InviteTransaction()
    t.sent(0.0)
    assert t.response(486, 0.2) is Step.FAILED and t.final == 486
    assert t.response(486, 0.7) is Step.ACK_AGAIN
    assert run(t, 0.2 + TIMER_D + 0.1, start=0.2, step=0.1) == []
    assert t.terminated


def test_2xx_is_accepted_and_its_copies_passed_on_for_64_t1():
    t = InviteTransaction()
    t.sent(0.0)
    assert t.response(200, 1.0) is Step.ACCEPTED
    assert t.response(200, 1.5) is Step.ACCEPTED_AGAIN
    assert t.response(487, 1.6) is Step.NOTHING
    assert t.tick(32.9) is Step.NOTHING and not t.terminated
    t.tick(33.0)
    assert t.terminated


ME = Identity("10.0.0.2", 5060, "sip:box@10.0.0.2:5060", "edgecall", "INVITE, ACK, BYE")


def invite() -> InviteRequest:
    return InviteRequest(ME, "sip:+255712345678@10.0.0.1", '"box" <sip:box@10.0.0.2>', "ft1",
                         "<sip:+255712345678@10.0.0.1>", "cid@10.0.0.2", 1, "z9hG4bKone",
                         "v=0\r\n")


def parsed(text: str) -> RobustSIPMessage:
    return RobustSIPMessage(text.encode())


def test_cancel_matches_the_invite_not_a_dialog():
    cancel = parsed(invite().cancel())
    assert cancel.method == "CANCEL"
    assert cancel.headers["Via"][0]["branch"] == "z9hG4bKone"
    assert cancel.headers["CSeq"] == {"check": "1", "method": "CANCEL"}
    assert "tag" not in cancel.header_values("To")[0]
    assert cancel.heading.startswith(b"CANCEL sip:+255712345678@10.0.0.1 ")


def test_ack_of_an_error_is_in_its_transaction():
    ack = parsed(invite().ack_error("<sip:+255712345678@10.0.0.1>;tag=gw9"))
    assert ack.headers["Via"][0]["branch"] == "z9hG4bKone"
    assert ack.headers["CSeq"] == {"check": "1", "method": "ACK"}
    assert tag_of(ack.header_values("To")[0]) == "gw9"


def test_retry_after_a_challenge_keeps_the_dialog_identifiers():
    second = invite().retry("z9hG4bKtwo", {"Proxy-Authorization": "Digest x"})
    message = parsed(second.text())
    assert message.headers["CSeq"]["check"] == "2"
    assert message.headers["Call-ID"] == "cid@10.0.0.2"
    assert message.header_values("Proxy-Authorization") == ["Digest x"]
    assert tag_of(message.header_values("From")[0]) == "ft1"


def test_dialog_ack_and_bye_follow_the_reversed_record_route():
    routes = RouteSet.from_response(["<sip:p2.example;lr>, <sip:p1.example:5070;lr>"])
    dialog = Dialog(invite().retry("z9hG4bKtwo", {"Authorization": "Digest y"}),
                    "<sip:+255712345678@10.0.0.1>;tag=gw9", "sip:gw@10.0.0.9:5062", routes)
    assert dialog.next_hop() == ("p1.example", 5070)
    ack = parsed(dialog.ack("z9hG4bKack"))
    assert ack.heading.startswith(b"ACK sip:gw@10.0.0.9:5062 ")
    assert ack.header_values("Route") == ["<sip:p1.example:5070;lr>", "<sip:p2.example;lr>"]
    assert ack.headers["CSeq"] == {"check": "2", "method": "ACK"}
    assert ack.header_values("Authorization") == ["Digest y"]  # 13.2.2.4: same credentials
    bye = parsed(dialog.request("BYE", "z9hG4bKbye"))
    assert bye.headers["CSeq"] == {"check": "3", "method": "BYE"}
    assert tag_of(bye.header_values("To")[0]) == "gw9"
    assert tag_of(bye.header_values("From")[0]) == "ft1"


class Handler:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def on_provisional(self, response: Any) -> None:
        self.seen.append(("provisional", int(response.status)))

    def on_accepted(self, response: Any, source: Any, again: bool) -> None:
        self.seen.append(("accepted", again))

    def on_failed(self, response: Any, again: bool) -> None:
        self.seen.append(("failed", again))

    def on_timeout(self) -> None:
        self.seen.append(("timeout", None))

    def on_closed(self) -> None:
        self.seen.append(("closed", None))


def response(code: int, branch: str = "z9hG4bKone", method: str = "INVITE") -> RobustSIPMessage:
    return parsed(f"SIP/2.0 {code} X\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch={branch}\r\n"
                  "From: <sip:box@10.0.0.2>;tag=ft1\r\nTo: <sip:n@10.0.0.1>;tag=gw\r\n"
                  f"Call-ID: cid\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n")


def test_adapter_matches_by_branch_and_method_and_runs_timers():
    sent: list[bytes] = []
    clock = [0.0]
    client = InviteClient(lambda data, dest: sent.append(data), mono=lambda: clock[0])
    handler = Handler()
    client.start(b"INVITE", ("10.0.0.1", 5060), "z9hG4bKone", handler)
    clock[0] = 0.5
    client.run_timers()
    assert sent == [b"INVITE", b"INVITE"]
    assert not client.on_response(response(180, branch="z9hG4bKother"))
    assert not client.on_response(response(200, method="CANCEL"))
    assert client.on_response(response(180))
    clock[0] = 10.0
    client.run_timers()
    assert len(sent) == 2
    assert client.on_response(response(200)) and client.on_response(response(200))
    assert handler.seen == [("provisional", 180), ("accepted", False), ("accepted", True)]
    clock[0] = 43.0
    client.run_timers()
    assert len(client) == 0 and not client.on_response(response(200))


def test_adapter_reports_timer_b():
    clock = [0.0]
    client = InviteClient(lambda data, dest: None, mono=lambda: clock[0])
    handler = Handler()
    client.start(b"INVITE", ("10.0.0.1", 5060), "z9hG4bKone", handler, t1=0.1)
    clock[0] = 6.4
    client.run_timers()
    assert handler.seen == [("timeout", None)] and len(client) == 0


def test_an_unknown_response_code_counts_as_its_x00():
    """RFC 3261 8.1.3.2; stock raised ValueError, so the datagram was dropped as malformed and
    our INVITE was retransmitted until timer B."""
    message = parsed("SIP/2.0 499 Odd Gateway\r\nVia: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKone\r\n"
                     "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\n"
                     "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
    assert int(message.status) == 400
    assert message.heading == b"SIP/2.0 499 Odd Gateway"


def test_closing_ends_what_still_waits_for_an_answer():
    client = InviteClient(lambda data, dest: None)
    ringing, answered = Handler(), Handler()
    client.start(b"INVITE", ("10.0.0.1", 5060), "z9hG4bKone", ringing)
    client.start(b"INVITE", ("10.0.0.1", 5060), "z9hG4bKtwo", answered)
    client.on_response(response(180))
    client.on_response(response(200, branch="z9hG4bKtwo"))
    client.clear()
    assert ringing.seen == [("provisional", 180), ("closed", None)]
    assert answered.seen == [("accepted", False)]
