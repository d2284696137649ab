"""Noise on the SIP port (issue 11): stray responses and strangers' requests are dropped quietly
(no traceback, nothing printed, no reply), and floods of refused calls or malformed datagrams
are summarised in the log (first at once, then one line with a count per interval)."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

from edge.logthrottle import LogThrottle
from hardware.sip._compat import RobustSIPMessage

HOST = "127.0.0.1"


def response(code: int, phrase: str, call_id: str, method: str = "INVITE") -> bytes:
    return (
        f"SIP/2.0 {code} {phrase}\r\nVia: SIP/2.0/UDP {HOST}:5060;branch=z9hG4bKstray{code}\r\n"
        f"From: <sip:box@{HOST}>;tag=a\r\nTo: <sip:+255700000001@{HOST}>;tag=b\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def request(method: str, call_id: str, port: int) -> bytes:
    return (
        f"{method} sip:box@{HOST} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {HOST}:{port};branch=z9hG4bK{method}\r\n"
        f"From: <sip:+255700000001@{HOST}>;tag=a\r\nTo: <sip:box@{HOST}>;tag=b\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 2 {method}\r\nContent-Length: 0\r\n\r\n"
    ).encode()


STRAYS = [
    response(200, "OK", "unknown-1"), response(404, "Not Found", "unknown-2"),
    response(503, "Service Unavailable", "unknown-3"), response(486, "Busy Here", "unknown-4"),
    response(481, "Call/Transaction Does Not Exist", "unknown-5", "BYE"),
    response(200, "OK", "unknown-6", "REGISTER"),
]


def replies(sock: socket.socket, seconds: float) -> list[bytes]:
    got = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            got.append(sock.recv(65535))
        except TimeoutError:
            break
    return got


def test_stock_prints_and_raises_on_stray_responses(capsys):
    import pyVoIP.VoIP  # noqa: F401  (before pyVoIP.SIP: its import is circular)
    from pyVoIP.VoIP.VoIP import VoIPPhone

    stock = VoIPPhone(HOST, 9, "box", "", myIP=HOST, sipPort=0)
    stock.sip.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        stock.sip.parse_message(RobustSIPMessage(STRAYS[3]))  # 486 to nothing
        assert "TODO: Add 500 Error on Receiving SIP Response" in capsys.readouterr().out
        try:
            stock.sip.parse_message(RobustSIPMessage(STRAYS[1]))  # 404 to nothing
        except KeyError:
            pass
        else:
            raise AssertionError("stock raised no KeyError for a 404 of an unknown call")
    finally:
        stock.sip.s.close()


def test_stray_responses_dropped_quietly(make_line, capfd, caplog):
    line = make_line(allowed_sources=["127.0.0.0/8"])
    caplog.set_level(logging.DEBUG, logger="hardware.sip")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        for datagram in STRAYS * 3:
            s.sendto(datagram, (HOST, line.port))
        assert replies(s, 1.0) == []  # no ACK, no 481, nothing
        s.sendto(request("OPTIONS", "still-there", s.getsockname()[1]), (HOST, line.port))
        assert replies(s, 2.0)[0].startswith(b"SIP/2.0 200")  # and the line still answers
    assert line.line.phone.sip.stats["stray"] == len(STRAYS) * 3
    assert capfd.readouterr().out == ""  # pyVoIP's TODO prints never reached
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert not any(r.exc_info for r in caplog.records)  # no traceback


def test_strangers_get_no_reply_but_invites_403(make_line):
    line = make_line(allowed_sources=["192.0.2.0/24"])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
        for method in ("BYE", "INFO", "CANCEL", "UPDATE", "NOTIFY", "MESSAGE"):
            s.sendto(request(method, f"stranger-{method}", port), (HOST, line.port))
        for datagram in STRAYS:
            s.sendto(datagram, (HOST, line.port))
        assert replies(s, 1.0) == []  # before: 481 to the BYE and INFO, 501 to the rest
        s.sendto(request("OPTIONS", "stranger-options", port), (HOST, line.port))
        assert replies(s, 2.0)[0].startswith(b"SIP/2.0 403")  # kept: gateways and doctor read it
    assert line.line.status().facts["refused"] >= 7


def invite(n: int, port: int) -> bytes:
    sdp = (f"v=0\r\no=gw 1 1 IN IP4 {HOST}\r\ns=-\r\nc=IN IP4 {HOST}\r\nt=0 0\r\n"
           "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
    return (
        f"INVITE sip:s@{HOST} SIP/2.0\r\nVia: SIP/2.0/UDP {HOST}:{port};branch=z9hG4bKi{n}\r\n"
        f"From: <sip:+255712345678@{HOST}>;tag=f{n}\r\nTo: <sip:s@{HOST}>\r\nCall-ID: flood{n}\r\n"
        f"CSeq: 1 INVITE\r\nContact: <sip:gw@{HOST}:{port}>\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(sdp)}\r\n\r\n{sdp}"
    ).encode()


def flood(line: Any, make: Any, count: int) -> list[bytes]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        for n in range(count):
            s.sendto(make(n, s.getsockname()[1]), (HOST, line.port))
        return replies(s, 1.0)


def test_refused_invites_summarised(make_line, caplog):
    caplog.set_level(logging.WARNING, logger="hardware.sip")
    line = make_line(allowed_sources=["192.0.2.0/24"])
    now = [0.0]
    line.line._noise = LogThrottle(logging.getLogger("hardware.sip._line"), 60.0,
                                   mono=lambda: now[0])
    got = flood(line, invite, 40)
    assert len(got) == 40 and all(g.startswith(b"SIP/2.0 403") for g in got)  # each refused
    refused = [r.getMessage() for r in caplog.records if "refused a call" in r.getMessage()]
    assert len(refused) == 1  # before: 40 lines
    now[0] = 61.0
    flood(line, invite, 1)
    refused = [r.getMessage() for r in caplog.records if "refused a call" in r.getMessage()]
    assert len(refused) == 2 and refused[1].endswith("(and 39 more like it in the last 60 s)")
    assert "+255712345678" not in caplog.text  # numbers never in the clear


def test_malformed_datagrams_summarised(make_line, caplog):
    caplog.set_level(logging.INFO, logger="hardware.sip")
    line = make_line()
    sip = line.line.phone.sip
    now = [0.0]
    sip.noise = LogThrottle(logging.getLogger("hardware.sip._compat._client"), 60.0,
                            mono=lambda: now[0])
    flood(line, lambda n, port: b"\xff\xfe garbage %d" % n, 30)
    malformed = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert len(malformed) == 1 and malformed[0].levelno == logging.WARNING
    now[0] = 61.0
    flood(line, lambda n, port: b"INVITE\r\n\r\n", 1)
    malformed = [r.getMessage() for r in caplog.records if "malformed" in r.getMessage()]
    assert len(malformed) == 2 and "(and 29 more like it in the last 60 s)" in malformed[1]
    assert sip.stats["malformed"] == 31
