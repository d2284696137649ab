"""Calling people back on the SIP line (issue #12): ``SipLine.dial`` against SIPp phones behind
a "gateway" (SIPp as the UAS on 127.0.0.1): each answer to our INVITE mapped to its outcome,
the ACKs, CANCEL and digest checked by the scenarios, and an answered call completing the demo
survey."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from edge.lines import DIAL_OUTCOMES, RemoteHangup
from edge.privacy import Pseudonymiser
from edge.server import run_call
from edge.store import Store
from edge.survey import BUILTIN_DEMO, load_survey

NUMBER = "+255712345678"
EXPECTED = {"language": "en", "consent": "yes", "household": "1", "need": "food",
            "callback": "no"}
KEY = b"sip-test-pseudonym-key-0123456789"


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = Store.open(tmp_path / "store")
    yield opened
    opened.close()


def gateway(sipp: Any, make_line: Any, scenario: str, **line: Any) -> tuple[Any, Any]:
    """SIPp as the phone behind the gateway (started first), and a line that dials it."""
    proc = sipp.start(scenario, None, timeout_s=40)
    harness = make_line(gateway_address="127.0.0.1", gateway_port=sipp.port, **line)
    return proc, harness.line


def test_the_sip_kind_dials() -> None:
    from hardware.sip import KIND

    assert KIND.dials


def test_answered_call_completes_the_demo_survey(sipp, make_line, store, shared_data_dir):
    proc, line = gateway(sipp, make_line, "uas_answer_keys.xml", data_dir=shared_data_dir)
    assert line.ready_to_dial()
    result = line.dial(NUMBER, 20)
    assert result.outcome == "answered", result.detail
    call = result.call
    assert call.caller.number == NUMBER
    call.answer()  # already answered: does nothing
    disposition = run_call(call, load_survey(BUILTIN_DEMO), store, Pseudonymiser(KEY))
    assert disposition == "complete"
    rows = store.query("SELECT question, value FROM answers")
    assert {r["question"]: r["value"] for r in rows} == EXPECTED
    assert sipp.wait(proc) == 0, sipp.errors()  # ACK with To-tag, our BYE in the dialog
    assert line.phone.calls == {}


@pytest.mark.parametrize(("code", "phrase", "outcome"), [
    (486, "Busy Here", "busy"),
    (600, "Busy Everywhere", "busy"),
    (603, "Decline", "rejected"),
    (404, "Not Found", "unreachable"),
    (480, "Temporarily Unavailable", "no-answer"),  # after its 180: it rang
    (503, "Service Unavailable", "failed"),
])
def test_final_answers_map_to_outcomes(code, phrase, outcome, sipp, make_line, tools):
    scenario = sipp.workdir / f"uas_final_{code}.xml"
    scenario.write_text((tools.SCENARIOS / "uas_final.template.xml").read_text().replace(
        "CODE PHRASE", f"{code} {phrase}"))
    proc, line = gateway(sipp, make_line, str(scenario))
    result = line.dial(NUMBER, 20)
    assert (result.outcome, result.call) == (outcome, None), result.detail
    assert result.detail.startswith(f"{code} {phrase}")
    assert sipp.wait(proc) == 0, sipp.errors()  # our ACK: To-tag, CSeq
    assert line.phone.calls == {}


def test_ring_timeout_cancels(sipp, make_line):
    proc, line = gateway(sipp, make_line, "uas_ring_no_answer.xml")
    started = time.monotonic()
    result = line.dial(NUMBER, 2.0)
    assert result.outcome == "no-answer" and result.call is None, result.detail
    assert 2.0 <= time.monotonic() - started < 5.0
    assert "487" in result.detail
    assert sipp.wait(proc) == 0, sipp.errors()  # CANCEL on the INVITE's branch, 487 ACKed
    assert line.phone.calls == {}


def test_outcomes_are_the_lines_outcomes():
    from hardware.sip._compat import Placed
    from hardware.sip._outcomes import dial_outcome

    seen = {dial_outcome(Placed(code, rang=rang, provisional=True, cancelled=c), 30)[0]
            for code in (0, 200, 404, 408, 480, 486, 487, 500, 603)
            for rang in (False, True) for c in (False, True)}
    assert seen <= set(DIAL_OUTCOMES)


def test_hang_up_after_answer_sends_bye(sipp, make_line):
    proc, line = gateway(sipp, make_line, "uas_answer_keys.xml")
    result = line.dial(NUMBER, 20)
    assert result.outcome == "answered"
    call = result.call
    keys = ""
    deadline = time.monotonic() + 15
    while len(keys) < 6 and time.monotonic() < deadline:
        event = call.next_event(0.5)
        if event is not None and hasattr(event, "digit"):
            keys += event.digit
        assert not isinstance(event, RemoteHangup)
    assert keys == "111#12"
    call.hang_up()
    assert sipp.wait(proc) == 0, sipp.errors()


def test_digest_challenge_answered_then_200(sipp, make_line):
    proc = sipp.start("uas_auth.xml", None, timeout_s=40, calls=2)  # REGISTER, INVITE
    line = make_line(gateway_address="127.0.0.1", gateway_port=sipp.port, account="box",
                     password="secret").line
    deadline = time.monotonic() + 10
    while not line.ready_to_dial():  # registered first (the line registers with an account)
        assert time.monotonic() < deadline, line.status()
        time.sleep(0.05)
    result = line.dial(NUMBER, 20)
    assert result.outcome == "answered", result.detail
    assert result.call.codec == "PCMA"
    result.call.hang_up()
    assert sipp.wait(proc) == 0, sipp.errors()  # ACKs, CSeq 2, credentials on the ACK


def test_unusable_answer_is_acked_then_ended(sipp, make_line):
    proc, line = gateway(sipp, make_line, "uas_bad_answer.xml")
    result = line.dial(NUMBER, 20)
    assert (result.outcome, result.call) == ("failed", None)
    assert result.detail == "unusable SDP answer: no common codec (this line speaks PCMU, PCMA)"
    assert sipp.wait(proc) == 0, sipp.errors()
    assert line.phone.calls == {}


class RawGateway:
    """A "gateway" on a raw UDP socket, for what SIPp cannot express: ignoring INVITEs,
    a 2xx that crosses our CANCEL, 2xx retransmissions. Records what the box sends."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.got: list[tuple[float, str]] = []

    def receive(self, timeout: float = 5.0) -> tuple[str, tuple[str, int]]:
        self.sock.settimeout(timeout)
        data, source = self.sock.recvfrom(65535)
        text = data.decode()
        self.got.append((time.monotonic(), text))
        return text, source

    def expect(self, method: str, timeout: float = 5.0) -> tuple[str, tuple[str, int]]:
        deadline = time.monotonic() + timeout
        while True:
            text, source = self.receive(max(0.01, deadline - time.monotonic()))
            if text.startswith(method + " "):
                return text, source

    def answer(self, request: str, code: int, phrase: str, to_tag: str = "gw1",
               sdp: bool = False, cseq_method: str | None = None) -> bytes:
        import re

        def header(name: str) -> str:
            return re.search(rf"(?m)^{name}: (.*)\r$", request).group(1)  # type: ignore[union-attr]

        cseq = header("CSeq")
        if cseq_method:
            cseq = cseq.split()[0] + " " + cseq_method
        body = ""
        if sdp:
            body = ("v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                    f"m=audio {self.rtp.getsockname()[1]} RTP/AVP 0 101\r\n"
                    "a=rtpmap:101 telephone-event/8000\r\n")
        text = (f"SIP/2.0 {code} {phrase}\r\nVia: {header('Via')}\r\nFrom: {header('From')}\r\n"
                f"To: {header('To')};tag={to_tag}\r\nCall-ID: {header('Call-ID')}\r\n"
                f"CSeq: {cseq}\r\nContact: <sip:gw@127.0.0.1:{self.port}>\r\n"
                + ("Content-Type: application/sdp\r\n" if sdp else "")
                + f"Content-Length: {len(body)}\r\n\r\n{body}")
        return text.encode()

    def close(self) -> None:
        self.sock.close()
        self.rtp.close()


@pytest.fixture
def raw_gateway() -> Any:
    gw = RawGateway()
    yield gw
    gw.close()


def _dial_in_thread(line: Any, ring_timeout_s: float) -> tuple[Any, dict[str, Any]]:
    import threading

    out: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: out.update(result=line.dial(NUMBER, ring_timeout_s)),
                              daemon=True)
    thread.start()
    return thread, out


def test_invite_retransmitted_until_a_provisional(raw_gateway, make_line):
    line = make_line(gateway_address="127.0.0.1", gateway_port=raw_gateway.port).line
    thread, out = _dial_in_thread(line, 20)
    first, _ = raw_gateway.expect("INVITE")
    second, source = raw_gateway.expect("INVITE")  # lost: sent again after T1
    assert second == first
    gap = raw_gateway.got[1][0] - raw_gateway.got[0][0]
    assert 0.4 < gap < 0.8
    raw_gateway.sock.sendto(raw_gateway.answer(second, 100, "Trying"), source)
    with pytest.raises(TimeoutError):  # no more copies once something came back
        raw_gateway.expect("INVITE", timeout=1.6)
    raw_gateway.sock.sendto(raw_gateway.answer(second, 486, "Busy Here"), source)
    ack, _ = raw_gateway.expect("ACK")
    assert "branch=" + first.split("branch=")[1].split(";")[0] in ack
    thread.join(5)
    assert out["result"].outcome == "busy"


def test_a_silent_gateway_fails_the_attempt(raw_gateway, make_line):
    line = make_line(gateway_address="127.0.0.1", gateway_port=raw_gateway.port).line
    result = line.dial(NUMBER, 1.7)
    assert (result.outcome, result.detail) == ("failed", "no response from the gateway")
    sent = [text for _, text in raw_gateway.got] if raw_gateway.got else []
    while True:
        try:
            sent.append(raw_gateway.receive(0.1)[0])
        except TimeoutError:
            break
    assert sum(text.startswith("INVITE ") for text in sent) >= 3  # 0, 0.5, 1.5 s
    assert not any(text.startswith("CANCEL ") for text in sent)  # never before a 1xx
    assert line.phone.calls == {}


def test_2xx_retransmissions_are_acked_and_a_2xx_crossing_cancel_is_taken(raw_gateway,
                                                                          make_line):
    line = make_line(gateway_address="127.0.0.1", gateway_port=raw_gateway.port).line
    thread, out = _dial_in_thread(line, 1.0)
    invite, source = raw_gateway.expect("INVITE")
    raw_gateway.sock.sendto(raw_gateway.answer(invite, 180, "Ringing"), source)
    cancel, _ = raw_gateway.expect("CANCEL", timeout=3)
    # The callee picked up as the box gave up: the INVITE's 200 crosses the CANCEL.
    ok = raw_gateway.answer(invite, 200, "OK", sdp=True)
    raw_gateway.sock.sendto(raw_gateway.answer(cancel, 200, "OK"), source)
    raw_gateway.sock.sendto(ok, source)
    first_ack, _ = raw_gateway.expect("ACK")
    raw_gateway.sock.sendto(ok, source)  # our ACK "lost": the 200 again
    second_ack, _ = raw_gateway.expect("ACK")
    assert first_ack == second_ack and ";tag=gw1" in first_ack
    thread.join(5)
    result = out["result"]
    assert result.outcome == "answered", result.detail
    result.call.hang_up()
    bye, _ = raw_gateway.expect("BYE")
    assert bye.startswith(f"BYE sip:gw@127.0.0.1:{raw_gateway.port} ") and ";tag=gw1" in bye


def test_hanging_up_while_it_rings_cancels(raw_gateway, make_line):
    line = make_line(gateway_address="127.0.0.1", gateway_port=raw_gateway.port).line
    placing = line.phone.place(NUMBER, "edgecall")
    placing.start()
    invite, source = raw_gateway.expect("INVITE")
    raw_gateway.sock.sendto(raw_gateway.answer(invite, 180, "Ringing"), source)
    time.sleep(0.3)
    placing.call.hangup()
    cancel, _ = raw_gateway.expect("CANCEL")
    raw_gateway.sock.sendto(raw_gateway.answer(cancel, 200, "OK"), source)
    raw_gateway.sock.sendto(raw_gateway.answer(invite, 487, "Request Terminated"), source)
    raw_gateway.expect("ACK")
    result = placing.wait(10)
    assert (result.status, result.cancelled, result.rang) == (487, True, True)
    assert line.phone.calls == {}


def test_doctor_counts_a_sip_line_as_dialling(tmp_path):
    from edge.config import Config, parse_config
    from edge.doctor._outbound import check_outbound
    from edge.plugins import all_sections

    raw = {"box": {"id": "t", "data_dir": str(tmp_path / "data")},
           "outbound": {"enabled": True}, "sip": {"gateway_address": "127.0.0.1"}}
    parsed = parse_config(raw, "test", all_sections())
    results = list(check_outbound(Config(parsed.path, parsed.sections, {})))
    assert not any("no enabled line" in r.message for r in results)


def test_shutdown_while_it_rings_ends_the_dial(raw_gateway, make_line):
    line = make_line(gateway_address="127.0.0.1", gateway_port=raw_gateway.port).line
    thread, out = _dial_in_thread(line, 30)
    invite, source = raw_gateway.expect("INVITE")
    raw_gateway.sock.sendto(raw_gateway.answer(invite, 180, "Ringing"), source)
    time.sleep(0.3)
    started = time.monotonic()
    line.shutdown()
    raw_gateway.expect("CANCEL")
    thread.join(5)
    assert time.monotonic() - started < 3
    assert (out["result"].outcome, out["result"].detail) == ("failed", "the SIP line stopped")
