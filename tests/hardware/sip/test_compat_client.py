"""Pure parts of the client fixes: response routing and INFO bodies."""

from __future__ import annotations

import socket

from hardware.sip._compat import RoutingSocket, info_digit


def test_routing_by_call_id_with_bounded_memory():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        r = RoutingSocket(s, max_entries=2)
        r.learn("a@x", ("10.0.0.1", 5070))
        r.learn("b@x", ("10.0.0.2", 5080))
        msg = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 9.9.9.9:1\r\nCall-ID: a@x\r\n\r\n"
        assert r.destination(msg, ("1.1.1.1", 5060)) == ("10.0.0.1", 5070)
        r.learn("c@x", ("10.0.0.3", 5090))  # evicts the least recently learned (a)
        assert r.destination(msg, ("1.1.1.1", 5060)) == ("1.1.1.1", 5060)
        assert r.destination(msg.replace(b"a@x", b"b@x"), ("1.1.1.1", 5060)) == (
            "10.0.0.2", 5080)
        assert r.destination(b"REGISTER sip:x SIP/2.0\r\n\r\n", ("1.1.1.1", 5060)) == (
            "1.1.1.1", 5060)


def test_info_bodies():
    assert info_digit("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n") == "5"
    assert info_digit("Application/DTMF-Relay; x=y", "signal= #\r\n") == "#"
    assert info_digit("application/dtmf-relay", "Signal=11\r\n") == "#"
    assert info_digit("application/dtmf-relay", "Signal=12\r\n") is None
    assert info_digit("application/dtmf", "*") == "*"
    assert info_digit("application/sdp", "v=0") is None
    assert info_digit("application/dtmf-relay", "Signal=X\r\n") is None
