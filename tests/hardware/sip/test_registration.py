"""Registration against PBX-style registrars (issue 11): our binding's lifetime, digest with qop,
SHA-256 and proxy challenges, the challenged un-REGISTER at stop, and a Call-ID kept across
restarts with a CSeq that only goes up. SIPp registrars, and raw UDP where SIPp cannot check."""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hardware.sip._compat import HardenedPhone, RegistrationIdentity, RegistrationPolicy
from hardware.sip._compat._register import Binding
from hardware.sip._compat._registration import granted_expires

HOST = "127.0.0.1"


def phone(tools: Any, registrar: int, password: str = "secret", **kwargs: Any) -> HardenedPhone:
    rtp = tools.free_ports(4)
    return HardenedPhone(HOST, registrar, "box", password, myIP=HOST,
                         sipPort=tools.free_ports(1), rtpPortLow=rtp, rtpPortHigh=rtp + 3,
                         register=True, policy=RegistrationPolicy(base=30), **kwargs)


def wait_for(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(predicate())


def test_lifetime_is_our_bindings_not_the_first():
    mine, other = "11111111-2222-4333-8444-555555555555", "99999999-0000-4000-8000-000000000000"
    ours = Binding("box", "pbx.test", 5060, "10.0.0.5", 5062, mine)
    contacts = [
        f'<sip:box@10.0.0.9:5060>;expires=3600;+sip.instance="<urn:uuid:{other}>"',
        f'<sip:box@10.0.0.5:5062;transport=udp>;expires=120;+sip.instance="<urn:uuid:{mine}>"',
    ]
    assert granted_expires("3600", contacts, 300) == 3600  # before: the first Contact
    assert granted_expires("3600", contacts, 300, ours.is_ours) == 120
    # Without instance ids: user, host and port decide; one header line with two entries.
    from hardware.sip._compat._register import contact_entries

    line = ["<sip:box@10.0.0.9>;expires=3600, <sip:box@10.0.0.5:5062>;expires=90"]
    assert granted_expires(None, contact_entries(line), 300, ours.is_ours) == 90
    assert granted_expires("45", contact_entries(["<sip:box@10.0.0.9>;expires=3600"]), 300,
                           ours.is_ours) == 3600  # a lone Contact is ours, even rewritten
    assert granted_expires("45", contact_entries(["<sip:a@10.0.0.9>;expires=9", "<sip:b@x>"]),
                           300, ours.is_ours) == 45  # ours not listed: the Expires header


def test_pbx_registrar_qop_digest_and_our_binding(sipp, tools):
    registrar = tools.free_ports(1)
    proc = sipp.start("uas_registrar_bindings.xml", None, port=registrar, timeout_s=15)
    time.sleep(0.3)
    ours = phone(tools, registrar)
    try:
        ours.start()
        assert sipp.wait(proc, timeout=15) == 0, sipp.errors()  # refreshed within 2 s
        assert ours.registration_state() == "registered"
    finally:
        ours.stop()


def test_unregister_answers_the_challenge(sipp, tools):
    registrar = tools.free_ports(1)
    proc = sipp.start("uas_registrar_unregister.xml", None, port=registrar, timeout_s=15)
    time.sleep(0.3)
    ours = phone(tools, registrar)
    ours.start()
    assert wait_for(lambda: ours.registration_state() == "registered", 5)
    started = time.monotonic()
    ours.stop()
    assert time.monotonic() - started < 1.5
    assert sipp.wait(proc, timeout=5) == 0, sipp.errors()


class RawRegistrar:
    """A registrar on a raw UDP socket that records each REGISTER and answers with ``answer``."""

    def __init__(self, tools: Any, answer: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, tools.free_ports(1)))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.requests: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, source = self.sock.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            text = data.decode()
            self.requests.append(text)
            reply = self.answer(text, len(self.requests))
            if reply:
                self.sock.sendto(reply.encode(), source)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def header(text: str, name: str) -> str:
    match = re.search(rf"^{name}:\s*(.*?)\r$", text, re.MULTILINE | re.IGNORECASE)
    return match.group(1) if match else ""


def reply(request: str, status: str, *extra: str) -> str:
    keep = "".join(f"{n}: {header(request, n)}\r\n" for n in ("Via", "From", "To", "Call-ID",
                                                               "CSeq"))
    return (f"SIP/2.0 {status}\r\n{keep}" + "".join(f"{e}\r\n" for e in extra)
            + "Content-Length: 0\r\n\r\n")


def test_call_id_kept_across_restarts_cseq_only_up(tools, tmp_path: Path):
    def answer(request: str, n: int) -> str:
        expires = header(request, "Expires")
        return reply(request, "200 OK", f"{header(request, 'Contact')};expires={expires}")

    registrar = RawRegistrar(tools, answer)
    try:
        seen: list[tuple[str, int]] = []
        for box in ("a", "a", "b"):
            ours = phone(tools, registrar.port)
            ours.sip.use_identity(RegistrationIdentity(tmp_path / box / "sip-registration.json"))
            ours.start()
            assert wait_for(lambda p=ours: p.registration_state() == "registered", 5)
            ours.stop()  # un-REGISTER, answered
            for text in list(registrar.requests):
                sent = (header(text, "Call-ID"), int(header(text, "CSeq").split()[0]))
                if sent not in seen:  # a retransmission on a slow machine counts once
                    seen.append(sent)
        first_run, second_run, other_box = seen[0:2], seen[2:4], seen[4:6]
        assert {c for c, _ in first_run + second_run} == {first_run[0][0]}  # one Call-ID
        cseqs = [n for _, n in first_run + second_run]
        assert cseqs == sorted(cseqs) and len(set(cseqs)) == 4  # only up, across the restart
        assert other_box[0][0] != first_run[0][0]  # random per box
        assert not first_run[0][0].startswith(hashlib.sha256(b"1").hexdigest()[:32])
    finally:
        registrar.close()


def test_stock_call_id_is_the_same_on_every_box():
    import pyVoIP.VoIP  # noqa: F401  (before pyVoIP.SIP: its import is circular)
    from pyVoIP.SIP import SIPClient

    one = SIPClient(HOST, 5060, "box", "", phone=None, myIP=HOST, myPort=5062)
    two = SIPClient(HOST, 5060, "box", "", phone=None, myIP=HOST, myPort=5062)
    assert one.gen_call_id() == two.gen_call_id()  # the defect: a counter's hash


def check_digest(credentials: str, method: str, password: str) -> bool:
    """An independent check of an RFC 7616/8760 answer (qop=auth)."""
    p = dict(re.findall(r'(\w+)="?([^",]*)"?', credentials))
    h = {"SHA-256": hashlib.sha256, "MD5": hashlib.md5}[p["algorithm"]]

    def hx(s: str) -> str:
        return h(s.encode()).hexdigest()

    ha1 = hx(f"{p['username']}:{p['realm']}:{password}")
    ha2 = hx(f"{method}:{p['uri']}")
    return p["response"] == hx(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:{p['qop']}:{ha2}")


@pytest.mark.parametrize("status", ["401", "407"])
def test_sha256_challenge_preferred_and_answered(tools, status):
    challenge_header, answer_header = {
        "401": ("WWW-Authenticate", "Authorization"),
        "407": ("Proxy-Authenticate", "Proxy-Authorization")}[status]

    def answer(request: str, n: int) -> str:
        credentials = header(request, answer_header)
        if not credentials:
            return reply(
                request, f"{status} Authentication Required",
                f'{challenge_header}: Digest realm="pbx", nonce="n{n}", qop="auth", '
                f'algorithm=SHA-256, opaque="op"',
                f'{challenge_header}: Digest realm="pbx", nonce="n{n}", qop="auth", '
                f"algorithm=MD5")
        if "algorithm=SHA-256" in credentials and check_digest(credentials, "REGISTER",
                                                               "secret"):
            uri = re.search(r'uri="([^"]+)"', credentials)
            assert uri is not None and request.startswith(f"REGISTER {uri.group(1)} SIP/2.0")
            return reply(request, "200 OK", f"{header(request, 'Contact')};expires=60")
        return reply(request, "403 Forbidden")

    registrar = RawRegistrar(tools, answer)
    ours = phone(tools, registrar.port)
    try:
        ours.start()
        assert wait_for(lambda: ours.registration_state() == "registered", 5), registrar.requests
        assert 'opaque="op"' in header(registrar.requests[1], answer_header)
    finally:
        ours.stop()
        registrar.close()


def test_digest_rfc7616_vectors():
    from hardware.sip._compat._digest import DigestAnswerer, choose, parse_challenges

    value = ('Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
             'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
             'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", '
             'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, '
             'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
             'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"')
    challenges = parse_challenges([value])
    assert [c["algorithm"] for c in challenges] == ["SHA-256", "MD5"]
    cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
    for challenge, expected in zip(challenges, (
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            "8ca523f5e9506fed4657c9700eebdbec"), strict=True):
        answer = DigestAnswerer("Mufasa", "Circle of Life").authorization(
            challenge, "GET", "/dir/index.html", cnonce=cnonce)
        assert f'response="{expected}"' in answer
        assert "qop=auth, nc=00000001" in answer and 'opaque="FQhe' in answer
    assert choose(list(reversed(challenges)))["algorithm"] == "SHA-256"
