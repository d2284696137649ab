"""Signalling defects of pyVoIP 1.6.8 against a real peer (SIPp on 127.0.0.1): each test runs
the same scenario against the stock VoIPPhone (showing the defect) and our HardenedPhone.

The stock phone cannot run without a registrar (defect 6 of the reference); to show its other
defects it is started by binding its socket and running its receive loop by hand, with SIPp
as its configured server, which is how the stock phone works best.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import pyVoIP.VoIP  # noqa: F401  (before pyVoIP.SIP: its import is circular)
from pyVoIP.SIP import SIPClient
from pyVoIP.VoIP.status import PhoneStatus
from pyVoIP.VoIP.VoIP import InvalidStateError, VoIPPhone

from hardware.sip._compat import HardenedPhone, RegistrationPolicy, RobustSIPMessage

HOST = "127.0.0.1"


class Answerer:
    """A call handler: answers after ``delay`` s, records keys, hangs up after ``keys`` keys or
    ``hold`` seconds (None: never)."""

    def __init__(self, delay: float = 0.2, keys: int | None = None, hold: float | None = None):
        self.delay, self.keys_wanted, self.hold = delay, keys, hold
        self.digits: list[str] = []
        self.calls: list[Any] = []
        self.answer_errors: list[Exception] = []

    def __call__(self, call: Any) -> None:
        self.calls.append(call)
        if hasattr(call, "listener"):
            answerer = self

            class Listener:
                def on_digit(self, digit: str, source: str) -> None:
                    answerer.digits.append(digit)
                    if answerer.keys_wanted and len(answerer.digits) >= answerer.keys_wanted:
                        threading.Thread(target=call.hangup, daemon=True).start()

                def on_audio(self, frame: bytes) -> None:
                    pass

                def on_ended(self, reason: str) -> None:
                    pass

            call.listener = Listener()
        threading.Thread(target=self._run, args=(call,), daemon=True).start()

    def _run(self, call: Any) -> None:
        time.sleep(self.delay)
        try:
            call.answer()
        except (InvalidStateError, OSError) as exc:
            self.answer_errors.append(exc)
            return
        if self.hold is not None:
            time.sleep(self.hold)
            with contextlib.suppress(Exception):
                call.hangup()


class Phones:
    def __init__(self, tools: Any) -> None:
        self.tools = tools
        self.started: list[VoIPPhone] = []

    def stock(self, server_port: int, handler: Any) -> VoIPPhone:
        """A stock VoIPPhone whose configured server is ``server_port``; receive loop only."""
        rtp = self.tools.free_ports(10)
        sip_port = self.tools.free_ports(1)
        phone = VoIPPhone(HOST, server_port, "box", "", myIP=HOST, callCallback=handler,
                          sipPort=sip_port, rtpPortLow=rtp, rtpPortHigh=rtp + 9)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((HOST, sip_port))
        phone.sip.s = phone.sip.out = sock
        phone.sip.NSD = phone.NSD = True
        threading.Thread(target=phone.sip.recv_loop, daemon=True).start()
        phone.port_for_tests = sip_port
        self.started.append(phone)
        return phone

    def ours(self, handler: Any, server_port: int = 5060, **kwargs: Any) -> HardenedPhone:
        rtp = self.tools.free_ports(10)
        phone = HardenedPhone(HOST, server_port, kwargs.pop("username", ""), "", myIP=HOST,
                              callCallback=handler, sipPort=self.tools.free_ports(1),
                              rtpPortLow=rtp, rtpPortHigh=rtp + 9, **kwargs)
        self.started.append(phone)
        return phone

    def close(self) -> None:
        for phone in self.started:
            if isinstance(phone, HardenedPhone):
                phone.stop()
                continue
            phone.sip.NSD = phone.NSD = False
            for call in list(phone.calls.values()):
                for client in call.RTPClients:
                    with contextlib.suppress(Exception):
                        client.stop()
            with contextlib.suppress(Exception):
                phone.sip.s.close()
            if phone.sip.registerThread:
                phone.sip.registerThread.cancel()


@pytest.fixture
def phones(tools: Any) -> Iterator[Phones]:
    made = Phones(tools)
    yield made
    made.close()


def port_of(phone: Any) -> int:
    return phone.port_for_tests if hasattr(phone, "port_for_tests") else phone.sip.myPort


def test_options_answered(sipp, phones, tools):
    sipp_port = tools.free_ports(1)
    stock = phones.stock(sipp_port, Answerer())
    assert sipp.wait(sipp.start("uac_options.xml", port_of(stock), port=sipp_port)) != 0
    ours = phones.ours(Answerer())
    ours.start()
    assert sipp.wait(sipp.start("uac_options.xml", port_of(ours))) == 0, sipp.errors()


def test_info_answered_and_read_as_keys(sipp, phones, tools):
    sipp_port = tools.free_ports(1)
    stock_handler = Answerer(keys=6, hold=8)
    stock = phones.stock(sipp_port, stock_handler)
    proc = sipp.start("uac_info_digits.xml", port_of(stock), port=sipp_port, timeout_s=15)
    assert sipp.wait(proc) != 0  # INFO never answered

    handler = Answerer(keys=6)
    ours = phones.ours(handler)
    ours.start()
    assert sipp.wait(sipp.start("uac_info_digits.xml", port_of(ours))) == 0, sipp.errors()
    assert "".join(handler.digits) == "111#12"


def test_cancel_gets_487_and_call_never_answered(sipp, phones, tools):
    sipp_port = tools.free_ports(1)
    stock_handler = Answerer(delay=1.0)
    stock = phones.stock(sipp_port, stock_handler)
    assert sipp.wait(sipp.start("uac_cancel.xml", port_of(stock), port=sipp_port)) != 0

    handler = Answerer(delay=1.0)
    ours = phones.ours(handler)
    ours.start()
    assert sipp.wait(sipp.start("uac_cancel.xml", port_of(ours))) == 0, sipp.errors()
    assert len(handler.answer_errors) == 1  # answering the cancelled call was refused


def transmitters(prefix: str, before: set[threading.Thread]) -> int:
    """Live threads named ``prefix...`` started since ``before`` (a set of Thread objects,
    not idents: a thread that ended since may have left its ident to a new one)."""
    return sum(1 for t in threading.enumerate()
               if t not in before and t.is_alive() and t.name.startswith(prefix))


def transmitters_started(prefix: str, before: set[threading.Thread], proc: Any,
                         limit_s: float = 20) -> int:
    """Transmitter threads seen while SIPp runs its scenario, alive together or not: the first
    one may be gone before a sample sees the second on a loaded machine. Sampling lasts until
    SIPp exits (not a fixed window: under load the re-INVITE can come seconds late). The
    threads are held, so one is never counted twice."""
    seen: dict[int, threading.Thread] = {}
    deadline = time.monotonic() + limit_s
    while proc.poll() is None and time.monotonic() < deadline:
        for t in threading.enumerate():
            if t not in before and t.name.startswith(prefix):
                seen.setdefault(id(t), t)
        time.sleep(0.01)
    return len(seen)


def test_reinvite_keeps_one_rtp_stream(sipp, phones, tools):
    sipp_port = tools.free_ports(1)
    before = set(threading.enumerate())
    stock = phones.stock(sipp_port, Answerer(delay=0.0))
    proc = sipp.start("uac_reinvite.xml", port_of(stock), port=sipp_port, timeout_s=15)
    stock_started = transmitters_started("RTP Transmitter", before, proc)
    stock_rc = sipp.wait(proc)
    # Stock either starts a second transmitter or (when the port cannot be bound twice)
    # drops the re-INVITE unanswered.
    assert stock_started > 1 or stock_rc != 0, sipp.errors()

    before = set(threading.enumerate())
    ours = phones.ours(Answerer(delay=0.0))
    ours.start()
    proc = sipp.start("uac_reinvite.xml", port_of(ours))
    peak_streams, deadline = 0, time.monotonic() + 20
    while proc.poll() is None and time.monotonic() < deadline:
        # streams the engine paces, across the re-INVITE, until the caller's BYE
        peak_streams = max(peak_streams, ours.rtp_engine.streams())
        time.sleep(0.05)
    assert peak_streams == 1 and transmitters("rtp-engine", before) == 1
    assert sipp.wait(proc) == 0, sipp.errors()


def test_responses_routed_to_the_source_in_trunk_mode(sipp, phones, tools):
    # The configured server is a socket that is not the caller: the gateway calls directly.
    elsewhere = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    elsewhere.bind((HOST, tools.free_ports(1)))
    elsewhere.settimeout(3)
    try:
        stock = phones.stock(elsewhere.getsockname()[1], Answerer(hold=0.5))
        assert sipp.wait(sipp.start("uac_box_bye.xml", port_of(stock), timeout_s=6)) != 0
        assert elsewhere.recv(4096).startswith(b"SIP/2.0 180")  # it went to the server

        elsewhere.settimeout(0.5)
        with contextlib.suppress(TimeoutError):
            while elsewhere.recv(4096):  # what else the stock phone sent there
                pass
        ours = phones.ours(Answerer(hold=0.5), server_port=elsewhere.getsockname()[1])
        ours.start()
        assert sipp.wait(sipp.start("uac_box_bye.xml", port_of(ours))) == 0, sipp.errors()
        elsewhere.settimeout(0.3)
        with pytest.raises(TimeoutError):
            elsewhere.recv(4096)
    finally:
        elsewhere.close()


def test_rtp_ports_returned_after_the_call(sipp, phones, tools):
    sipp_port = tools.free_ports(1)
    stock = phones.stock(sipp_port, Answerer(delay=0.0))
    assert sipp.wait(sipp.start("uac_caller_bye.xml", port_of(stock), port=sipp_port)) == 0
    time.sleep(0.3)
    assert len(stock.assignedPorts) == 1  # defect: the port of an ended call stays taken

    ours = phones.ours(Answerer(delay=0.0))
    ours.start()
    assert sipp.wait(sipp.start("uac_caller_bye.xml", port_of(ours))) == 0, sipp.errors()
    time.sleep(0.3)
    assert ours.assignedPorts == []


def test_bye_has_its_own_via_and_cseq():
    invite = RobustSIPMessage(
        b"INVITE sip:s@127.0.0.1:5062 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 10.1.1.1:5070;branch=z9hG4bKcaller\r\n"
        b"From: <sip:+2551@10.1.1.1>;tag=theirs\r\nTo: <sip:s@127.0.0.1>\r\nCall-ID: b1\r\n"
        b"CSeq: 41 INVITE\r\nContact: <sip:gw@10.1.1.1:5070>\r\nContent-Length: 0\r\n\r\n"
    )
    stock = SIPClient(HOST, 5060, "box", "", phone=None, myIP=HOST, myPort=5062)
    stock.gen_ringing(invite)
    stock_bye = stock.gen_bye(invite)
    assert "Via: SIP/2.0/UDP 10.1.1.1:5070;branch=z9hG4bKcaller" in stock_bye  # defect 7
    assert "CSeq: 42 BYE" in stock_bye

    ours = HardenedPhone(HOST, 5060, "box", "", myIP=HOST, sipPort=5062).sip
    ours.gen_ringing(invite)
    bye = ours.gen_bye(invite)
    lines = bye.split("\r\n")
    assert lines[0] == "BYE sip:gw@10.1.1.1:5070 SIP/2.0"
    assert lines[1].startswith("Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK")
    assert "z9hG4bKcaller" not in bye
    assert f"From: <sip:s@127.0.0.1>;tag={ours.tagLibrary['b1']}" in lines
    assert "To: <sip:+2551@10.1.1.1>;tag=theirs" in lines


def test_registration_refreshed_per_expires(sipp, phones, tools):
    registrar = tools.free_ports(1)
    proc = sipp.start("uas_registrar.xml", None, port=registrar, timeout_s=12)
    time.sleep(0.3)
    rtp = tools.free_ports(2)
    stock = VoIPPhone(HOST, registrar, "box", "pw", myIP=HOST, sipPort=tools.free_ports(1),
                      rtpPortLow=rtp, rtpPortHigh=rtp + 1)
    phones.started.append(stock)
    stock.start()
    assert stock.get_status() == PhoneStatus.REGISTERED
    assert sipp.wait(proc) != 0  # no refresh within the 2 s granted (stock waits 115 s)

    proc = sipp.start("uas_registrar.xml", None, port=registrar, timeout_s=12)
    time.sleep(0.3)
    ours = phones.ours(Answerer(), server_port=registrar, username="box", register=True)
    ours.start()
    assert sipp.wait(proc) == 0, sipp.errors()
    assert ours.registration_state() == "registered"


def test_registration_retried_after_failure(sipp, phones, tools):
    registrar = tools.free_ports(1)
    stock = VoIPPhone(HOST, registrar, "box", "pw", myIP=HOST, sipPort=tools.free_ports(1))
    stock.sip.register_timeout = 0.3
    phones.started.append(stock)
    with contextlib.suppress(Exception):
        stock.start()
    deadline = time.monotonic() + 5
    while stock.get_status() != PhoneStatus.FAILED and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stock.get_status() == PhoneStatus.FAILED
    late = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    late.bind((HOST, registrar))  # the registrar comes back: stock never tries again
    late.settimeout(2.0)
    with pytest.raises(TimeoutError):
        late.recv(4096)
    late.close()

    ours = phones.ours(Answerer(), server_port=registrar, username="box", register=True,
                       policy=RegistrationPolicy(base=0.3, cap=0.6))
    ours.sip.retransmit = (0.2, 0.3)
    ours.start()
    deadline = time.monotonic() + 5
    while ours.sip.policy.failures < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ours.registration_state() == "retrying"
    proc = sipp.start("uas_registrar.xml", None, port=registrar, timeout_s=12)
    assert sipp.wait(proc) == 0, sipp.errors()
    assert ours.registration_state() == "registered"


def test_stop_does_not_wait_for_a_lost_registrar(sipp, phones, tools):
    registrar = tools.free_ports(1)
    proc = sipp.start("uas_registrar_once.xml", None, port=registrar)
    time.sleep(0.3)
    stock = VoIPPhone(HOST, registrar, "box", "pw", myIP=HOST, sipPort=tools.free_ports(1))
    stock.start()
    assert sipp.wait(proc) == 0
    stock.sip.register_timeout = 2  # stock default: 30 s
    started = time.monotonic()
    stock.stop()
    assert time.monotonic() - started >= 2  # blocked on an un-REGISTER nobody answers

    proc = sipp.start("uas_registrar_once.xml", None, port=registrar)
    time.sleep(0.3)
    ours = phones.ours(Answerer(), server_port=registrar, username="box", register=True)
    ours.start()
    assert sipp.wait(proc) == 0, sipp.errors()
    started = time.monotonic()
    ours.stop()
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(("password", "state"), [("secret", "registered"), ("wrong", "retrying")])
def test_registration_with_digest(sipp, phones, tools, password, state):
    registrar = tools.free_ports(1)
    proc = sipp.start("uas_registrar_auth.xml", None, port=registrar, timeout_s=10)
    time.sleep(0.3)
    ours = HardenedPhone(HOST, registrar, "box", password, myIP=HOST,
                         sipPort=tools.free_ports(1), register=True,
                         policy=RegistrationPolicy(base=30))
    phones.started.append(ours)
    ours.start()
    sipp.wait(proc, timeout=12)
    deadline = time.monotonic() + 3
    while ours.registration_state() != state and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ours.registration_state() == state


def test_update_session_refresh_answered(sipp, phones, tools):
    sipp_port = tools.free_ports(1)
    stock = phones.stock(sipp_port, Answerer(delay=0.0))
    proc = sipp.start("uac_update_refresh.xml", port_of(stock), port=sipp_port, timeout_s=10)
    assert sipp.wait(proc) != 0  # UPDATE never answered: a gateway would end the call

    handler = Answerer(delay=0.0)
    ours = phones.ours(handler)
    ours.start()
    assert sipp.wait(sipp.start("uac_update_refresh.xml", port_of(ours))) == 0, sipp.errors()
    assert handler.digits == ["4"]


def invite_from(sock: socket.socket, target: int) -> bytes:
    sdp = ("v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
    port = sock.getsockname()[1]
    return (
        f"INVITE sip:s@127.0.0.1:{target} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKack\r\n"
        f"From: <sip:+1@127.0.0.1>;tag=gw\r\nTo: <sip:s@127.0.0.1>\r\nCall-ID: ack{port}\r\n"
        f"CSeq: 1 INVITE\r\nContact: <sip:gw@127.0.0.1:{port}>\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}"
    ).encode()


def count_200(sock: socket.socket, seconds: float) -> int:
    count = 0
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(65535)
        except TimeoutError:
            break
        count += data.startswith(b"SIP/2.0 200")
    return count


def test_200_ok_resent_until_ack(phones, tools):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as gw:
        gw.bind((HOST, tools.free_ports(1)))
        stock = phones.stock(gw.getsockname()[1], Answerer(delay=0.0, hold=5))
        gw.sendto(invite_from(gw, port_of(stock)), (HOST, port_of(stock)))
        assert count_200(gw, 2.5) == 1  # defect: sent once, a lost 200 or ACK is final

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as gw:
        gw.bind((HOST, tools.free_ports(1)))
        ours = phones.ours(Answerer(delay=0.0, hold=5))
        ours.sip.t1 = 0.2
        ours.start()
        invite = invite_from(gw, port_of(ours))
        gw.sendto(invite, (HOST, port_of(ours)))
        assert count_200(gw, 1.6) >= 3  # at 0, 0.2, 0.6, 1.4 s
        ack = invite.split(b"\r\n\r\n")[0].replace(b"INVITE sip", b"ACK sip").replace(
            b"CSeq: 1 INVITE", b"CSeq: 1 ACK").replace(b"Content-Type: application/sdp\r\n", b"")
        ack = ack.replace(b"To: <sip:s@127.0.0.1>", b"To: <sip:s@127.0.0.1>;tag=x")
        gw.sendto(ack.split(b"Content-Length")[0] + b"Content-Length: 0\r\n\r\n",
                  (HOST, port_of(ours)))
        count_200(gw, 0.3)  # one sent before the ACK may still be on its way (busy box)
        # acknowledged: no more (unacknowledged, the next would go at 3.0 s, inside this)
        assert count_200(gw, 2.0) == 0


def test_call_without_ack_is_ended_with_bye(sipp, phones):
    handler = Answerer(delay=0.0)
    ours = phones.ours(handler)
    ours.sip.t1 = 0.05  # 64 * T1 = 3.2 s instead of 32 s
    ours.start()
    assert sipp.wait(sipp.start("uac_no_ack.xml", port_of(ours))) == 0, sipp.errors()
    assert ours.calls == {} and handler.calls[0].end_reason == "no ACK"


def test_bye_retransmitted_until_answered(sipp, phones, tools):
    """A caller whose first two answers to our BYE are lost: stock sends the BYE once (the GSM
    call stays up); ours re-sends it at T1, 2*T1... until the 200 (RFC 3261 17.1.2)."""
    sipp_port = tools.free_ports(1)
    stock = phones.stock(sipp_port, Answerer(delay=0.0, hold=0.5))
    proc = sipp.start("uac_bye_lost.xml", port_of(stock), port=sipp_port, timeout_s=8,
                      extra=("-nr",))
    assert sipp.wait(proc) != 0  # the second BYE never comes

    handler = Answerer(delay=0.0, hold=0.5)
    ours = phones.ours(handler)
    ours.start()
    started = time.monotonic()
    proc = sipp.start("uac_bye_lost.xml", port_of(ours), extra=("-nr",))
    assert sipp.wait(proc) == 0, sipp.errors()
    assert time.monotonic() - started < 6  # BYEs at hang-up + 0, 0.5 and 1.5 s
    deadline = time.monotonic() + 2
    while ours.sip.outbound.busy() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ours.sip.outbound.busy() == 0  # answered: no more retransmissions


def test_record_route_copied_and_followed_by_our_bye(sipp, phones, tools):
    """Through record-routing proxies: stock's 200 drops Record-Route and its BYE goes straight
    to the caller's Contact; ours copies it and routes the BYE through the proxies."""
    sipp_port = tools.free_ports(1)
    stock = phones.stock(sipp_port, Answerer(delay=0.0, hold=0.5))
    proc = sipp.start("uac_record_route.xml", port_of(stock), port=sipp_port, timeout_s=6)
    assert sipp.wait(proc) != 0

    ours = phones.ours(Answerer(delay=0.0, hold=0.5))
    ours.start()
    assert sipp.wait(sipp.start("uac_record_route.xml", port_of(ours))) == 0, sipp.errors()


def test_route_set_loose_and_strict():
    from hardware.sip._compat._routeset import RouteSet

    loose = RouteSet.from_request(["<sip:p1.test;lr>, <sip:10.0.0.2:5070;lr;ftag=x>"])
    assert loose.request("sip:gw@10.9.9.9:5060") == (
        "sip:gw@10.9.9.9:5060", ["<sip:p1.test;lr>", "<sip:10.0.0.2:5070;lr;ftag=x>"],
        ("p1.test", 5060))
    assert loose.response_lines() == "Record-Route: <sip:p1.test;lr>, <sip:10.0.0.2:5070;lr;" \
                                     "ftag=x>\r\n"
    strict = RouteSet.from_request(["<sip:10.0.0.1:5080>", "<sip:10.0.0.2;lr>"])
    assert strict.request("sip:gw@10.9.9.9") == (
        "sip:10.0.0.1:5080", ["<sip:10.0.0.2;lr>", "<sip:gw@10.9.9.9>"], ("10.0.0.1", 5080))
    assert RouteSet().request("sip:gw@10.9.9.9") == ("sip:gw@10.9.9.9", [], None)
