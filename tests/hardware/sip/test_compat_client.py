"""Pure parts of the client fixes: response routing and INFO bodies."""

from __future__ import annotations

import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


VALID = (
    b"INVITE sip:s@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\n"
    b"From: <sip:+1@127.0.0.1>;tag=a\r\nTo: <sip:s@127.0.0.1>\r\nCall-ID: h1\r\n"
    b"CSeq: 1 INVITE\r\nContact: <sip:c@127.0.0.1:9>\r\nContent-Type: application/sdp\r\n"
    b"Content-Length: 60\r\n\r\n"
    b"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


@pytest.fixture(scope="module")
def client():
    from hardware.sip._compat import HardenedPhone

    phone = HardenedPhone("127.0.0.1", 9, "", "", myIP="127.0.0.1", sipPort=0,
                          callCallback=lambda call: call.hangup(),
                          rtpPortLow=47900, rtpPortHigh=47999)
    phone.start()
    yield phone.sip
    phone.stop()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cuts=st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=12),
    truncate=st.integers(1, len(VALID)),
    prefix=st.sampled_from([b"", b"OPTIONS", b"BYE", b"CANCEL", b"INFO", b"SIP/2.0 200 OK"]),
)
def test_no_datagram_escapes_the_client(client, cuts, truncate, prefix):
    data = bytearray(VALID[:truncate])
    for pos, value in cuts:
        if pos < len(data):
            data[pos] = value
    if prefix:
        data = bytearray(prefix + bytes(data[data.find(b" "):] if b" " in data else data))
    client.handle_datagram(bytes(data), ("127.0.0.1", 9))  # must not raise
    assert client.phone.calls == {}  # anything that rang was refused and forgotten


def test_rtp_ports_even_and_never_blocking():
    from pyVoIP.VoIP.VoIP import NoPortsAvailableError

    from hardware.sip._compat import HardenedPhone

    phone = HardenedPhone("127.0.0.1", 9, "", "", myIP="127.0.0.1", sipPort=0,
                          rtpPortLow=40001, rtpPortHigh=40006)
    ports = sorted(phone.request_port() for _ in range(3))
    assert ports == [40002, 40004, 40006]
    with pytest.raises(NoPortsAvailableError):  # stock would loop waiting
        phone.request_port()


def test_tags_and_routes_bounded_but_live_calls_kept():
    """A flood of requests must not grow the To-tag and route tables for ever (stock keeps a
    tag per Call-ID, and every tag in a list), nor push out a quiet live call's entries."""
    from hardware.sip._compat._tags import TagLibrary

    live = {"live@x"}
    tags = TagLibrary({"register": "r"}, keep=live.__contains__, max_entries=100)
    tags["live@x"] = "t"
    for i in range(10_000):
        tags[f"c{i}@x"] = "x"
    assert len(tags) <= 200 and tags["live@x"] == "t" and tags["register"] == "r"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        routes = RoutingSocket(s, max_entries=100, keep=live.__contains__)
        routes.learn("live@x", ("10.0.0.1", 5070))
        for i in range(10_000):
            routes.learn(f"c{i}@x", ("10.0.0.2", 5080))
        msg = b"BYE sip:x SIP/2.0\r\nCall-ID: live@x\r\n\r\n"
        assert routes.destination(msg, ("1.1.1.1", 5060)) == ("10.0.0.1", 5070)
        assert len(routes._peers) <= 200


def test_gen_tag_keeps_no_list(client):
    tags = {client.gen_tag() for _ in range(1000)}
    assert len(tags) == 1000 and all(len(t) == 8 for t in tags)
    assert len(client.tags) <= 1  # stock: one entry per tag ever made
