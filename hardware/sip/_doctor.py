"""``edgecall doctor`` checks for the [sip] line: the port can be bound, the gateway answers a
SIP OPTIONS, the account registers when one is configured, the DTMF mode is sensible, sox is
there to resample prompts.

Building and reading the OPTIONS and judging the outcomes are plain functions; the UDP
exchange is one thin function. REGISTER reuses the line's own code (HardenedSIPClient) so the
doctor sends exactly what ``edgecall serve`` will send, digest included.

Entry point: ``edgecall.doctor``: ``sip = "hardware.sip:doctor_checks"``.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import re
import secrets
import select
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._compat import HardenedSIPClient, normalise
from ._line import advertised_address
from ._resample import sox_path

# OPTIONS: first send, then resend after each wait; about 2 s in all (RFC 3261 timer E from a
# shortened T1: a gateway on the same LAN answers in milliseconds).
RETRANSMIT = (0.5, 0.5, 1.0)
G711 = ("PCMU", "PCMA")
_PORT_HINT = "see who holds it with: ss -lunp 'sport = :{port}'"


# --- sans-IO: messages and verdicts ----------------------------------------------------------

def build_options(*, local: str, local_port: int, gateway: str, gateway_port: int,
                  call_id: str, branch: str, tag: str) -> bytes:
    """An out-of-dialog OPTIONS ping (RFC 3261 section 11), as gateways send to the box."""
    return (
        f"OPTIONS sip:{gateway}:{gateway_port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {local}:{local_port};branch=z9hG4bK{branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:edgecall@{local}:{local_port}>;tag={tag}\r\n"
        f"To: <sip:{gateway}:{gateway_port}>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        f"Contact: <sip:edgecall@{local}:{local_port}>\r\n"
        "Accept: application/sdp\r\n"
        "User-Agent: edgecall doctor\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


@dataclass(frozen=True)
class Answer:
    """A SIP response as far as the doctor needs it."""

    code: int
    phrase: str
    call_id: str
    headers: dict[str, list[str]] = field(default_factory=dict)

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else ""

    @property
    def agent(self) -> str:
        return self.header("Server") or self.header("User-Agent")

    @property
    def allow(self) -> list[str]:
        return [m.strip().upper() for v in self.headers.get("allow", []) for m in v.split(",")
                if m.strip()]


def parse_answer(data: bytes) -> Answer | None:
    """A response datagram, or None for a request, garbage or a response without Call-ID.
    Parsed here rather than by pyVoIP, whose status enum refuses codes it does not know."""
    try:
        text = normalise(data).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    head = text.split("\r\n\r\n", 1)[0].split("\r\n")
    match = re.match(r"SIP/2\.0\s+(\d{3})\s*(.*)$", head[0])
    if not match:
        return None
    headers: dict[str, list[str]] = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    call_id = (headers.get("call-id") or [""])[0]
    if not call_id:
        return None
    return Answer(int(match.group(1)), match.group(2).strip(), call_id, headers)


@dataclass(frozen=True)
class Verdict:
    status: str  # ok | warn | fail
    message: str
    fix: str = ""


def judge_options(answer: Answer | None, gateway: str, port: int) -> Verdict:
    where = f"{gateway}:{port}"
    if answer is None:
        return Verdict(
            "fail", f"the gateway at {where} does not answer SIP OPTIONS",
            f"check that {gateway} is the gateway's IP (its web page, 'SIP server' or trunk "
            f"settings), that its SIP port is {port} ([sip] gateway_port), that it is powered "
            "and on the same LAN as the box, and that no firewall drops UDP between them")
    agent = f" ({answer.agent})" if answer.agent else ""
    return Verdict("ok", f"the gateway at {where} answers OPTIONS: {answer.code} "
                         f"{answer.phrase}{agent}")


def judge_register(codes: Sequence[int | None], expires: int | None, account: str,
                   where: str) -> Verdict:
    """``codes``: the final status of each REGISTER sent (None: no answer); the second entry
    is the answer to the authenticated REGISTER."""
    who = f"account {account!r} at {where}"
    if expires is not None:
        return Verdict("ok", f"{who} registered for {expires} s")
    last = codes[-1] if codes else None
    authed = len(codes) > 1
    if last is None:
        if authed:
            return Verdict("fail", f"the registrar challenged {who} but did not answer the "
                           "authenticated REGISTER",
                           "check the registrar's log for this account; a firewall may drop "
                           "the larger second message")
        return Verdict("fail", f"no answer to REGISTER for {who}",
                       f"check [sip] gateway_address/gateway_port point at the registrar ({where})"
                       ", that its SIP service is on, and that no firewall drops UDP")
    if last in (401, 403, 407) and (authed or last == 403):
        return Verdict("fail", f"registration of {who} refused ({last}): wrong account or "
                       "password",
                       "set [sip] account to the user name configured on the gateway/PBX and "
                       "sip_password in the secrets file (or [sip] password) to its password")
    if last == 404:
        return Verdict("fail", f"the registrar does not know {who} (404)",
                       "create the account on the gateway/PBX or fix [sip] account")
    if last == 423:
        return Verdict("fail", f"the registrar finds the lifetime too short for {who} (423)",
                       "raise [sip] register_expires (e.g. 3600)")
    return Verdict("fail", f"registration of {who} failed with {last}",
                   "check the account on the gateway/PBX; the SIP log shows the reason")


def judge_dtmf(mode: str, codecs: Sequence[str], allow: Sequence[str] | None) -> Verdict:
    """``allow``: the gateway's Allow header when it answered OPTIONS (None: unknown)."""
    if mode == "inband":
        odd = [c for c in codecs if c not in G711]
        if odd:
            return Verdict("warn", f"dtmf_mode inband with non-G.711 codec(s) {odd}: tones do "
                           "not survive compression", "list only PCMU/PCMA in [sip] codecs, or "
                           "use dtmf_mode = \"auto\"")
        return Verdict("warn", "dtmf_mode inband: keys are heard only if the gateway passes "
                       "tones cleanly through the GSM audio",
                       "if the gateway can send RFC 2833 (telephone-event) or SIP INFO, set its "
                       "DTMF to that and [sip] dtmf_mode = \"auto\"; confirm with 'edgecall "
                       "doctor --dtmf-test'")
    if mode == "info" and allow and "INFO" not in allow:
        return Verdict("warn", "dtmf_mode info, but the gateway does not list INFO in its "
                       "Allow header", "set the gateway's DTMF to RFC 2833 and [sip] dtmf_mode "
                       "= \"auto\", or confirm with 'edgecall doctor --dtmf-test'")
    return Verdict("ok", f"dtmf_mode {mode} (the gateway's DTMF setting must match; confirm "
                   "with 'edgecall doctor --dtmf-test')")


def judge_resampler(sox: str | None) -> Verdict:
    if sox:
        return Verdict("ok", f"prompts not recorded at 8 kHz are resampled by sox ({sox})")
    return Verdict("warn", "sox is not installed: prompts not recorded at 8 kHz are converted "
                   "without an anti-alias filter (44.1 kHz recordings lose much of their "
                   "clarity)", "apt-get install sox (then restart edgecall: prompts are "
                   "converted again)")


# --- I/O: thin ---------------------------------------------------------------------------------

def bind_problem(address: str, port: int) -> tuple[str, str] | None:
    """(message, fix) when the SIP port cannot be bound now, else None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((address, port))
        except OSError as exc:
            return _bind_words(exc, address, port)
    return None


def _bind_words(exc: OSError, address: str, port: int) -> tuple[str, str]:
    if exc.errno == errno.EADDRINUSE:
        return (f"port in use: UDP {address}:{port} is taken",
                "is edgecall serve running? stop it first (systemctl stop edgecall) and run "
                "doctor again, or stop the other SIP program holding it ("
                + _PORT_HINT.format(port=port) + ") or change [sip] port and the gateway's "
                "setting to match")
    if exc.errno == errno.EADDRNOTAVAIL:
        return (f"{address} is not an address of this box",
                "set [sip] bind_address to one shown by 'ip -4 addr', or to 0.0.0.0")
    if exc.errno == errno.EACCES:
        return (f"no permission to bind UDP port {port}",
                "use a port above 1023 (5060 is the usual one) in [sip] port")
    return (f"cannot bind UDP {address}:{port}: {exc}", "check [sip] bind_address and port")


def exchange(sock: socket.socket, data: bytes, destination: tuple[str, int], call_id: str,
             waits: Sequence[float] = RETRANSMIT) -> Answer | None:
    """Send ``data`` and resend after each wait until a final answer with our Call-ID comes
    (a provisional 1xx keeps waiting); None when none came."""
    for wait in waits:
        # An ICMP error from the last send may surface here: keep trying until the time is up.
        with contextlib.suppress(OSError):
            sock.sendto(data, destination)
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                break
            try:
                raw, _source = sock.recvfrom(65535)
            except OSError:
                continue  # ICMP port unreachable surfaces here on some kernels
            answer = parse_answer(raw)
            if answer is not None and answer.call_id == call_id and answer.code >= 200:
                return answer
    return None


def ping(bind: str, port: int, gateway: str, gateway_port: int, advertised: str,
         waits: Sequence[float] = RETRANSMIT) -> Answer | None:
    """OPTIONS from ``bind:port`` (0: any free port) to the gateway."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((bind, port))
        local_port = sock.getsockname()[1]
        call_id = secrets.token_hex(12)
        data = build_options(local=advertised, local_port=local_port, gateway=gateway,
                             gateway_port=gateway_port, call_id=call_id,
                             branch=secrets.token_hex(8), tag=secrets.token_hex(4))
        return exchange(sock, data, (gateway, gateway_port), call_id, waits)


class _RegisterProbe(HardenedSIPClient):
    """The line's REGISTER code, run once. The line only needs to know whether it is
    registered; the doctor keeps each answer's status to say why not."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.codes: list[int | None] = []

    def _transact(self, text: str) -> Any:
        response = super()._transact(text)
        self.codes.append(int(response.status) if response is not None else None)
        return response


def register_once(settings: dict[str, Any], password: str, advertised: str,
                  waits: Sequence[float] = RETRANSMIT) -> tuple[list[int | None], int | None]:
    """One REGISTER (with the digest answer when challenged) from the configured port:
    the status codes seen and the granted lifetime (None: not registered)."""
    probe = _RegisterProbe(
        settings["gateway_address"], settings["gateway_port"], settings["account"], password,
        phone=None, myIP=advertised, myPort=settings["port"], bind_ip=settings["bind_address"],
        register=False, expires=settings["register_expires"],
        # Nothing is answered for real while the doctor holds the port: a call gets 503.
        screen=lambda _message, _source: (503, "Service Unavailable"),
    )
    probe.retransmit = tuple(waits)
    probe.start()
    try:
        expires = probe._register_once()
    finally:
        probe.stop()
    return probe.codes, expires


# --- the checks --------------------------------------------------------------------------------

def doctor_checks(config: Any) -> Iterator[Any]:
    # Imported here: the result type lives in edge.doctor, loaded only when doctor runs.
    from edge.doctor import fail, ok, warn

    make = {"ok": ok, "warn": warn, "fail": fail}

    def result(name: str, verdict: Verdict, **facts: Any) -> Any:
        if verdict.status == "ok":
            return ok(name, verdict.message, **facts)
        return make[verdict.status](name, verdict.message, verdict.fix, **facts)

    settings = config.section("sip")
    if not settings or not settings.get("enabled", True):
        return
    bind, port = settings["bind_address"], settings["port"]
    gateway, gateway_port = settings["gateway_address"], settings["gateway_port"]
    advertised = advertised_address(settings)

    problem = bind_problem(bind, port)
    if problem:
        yield fail("sip port", problem[0], problem[1], bind_address=bind, port=port)
    else:
        yield ok("sip port", f"UDP {bind}:{port} is free for the SIP line",
                 bind_address=bind, port=port)
    yield result("sip prompts", judge_resampler(sox_path()))

    if not gateway:
        if settings["allowed_sources"]:
            yield ok("sip gateway", "no gateway_address (trunk mode): calls accepted from "
                     + ", ".join(settings["allowed_sources"]))
        else:
            yield warn("sip gateway", "no gateway_address and no allowed_sources: anyone who "
                       "can reach the box may call it",
                       "set [sip] gateway_address (or allowed_sources) to the gateway's IP")
        yield result("sip dtmf", judge_dtmf(settings["dtmf_mode"], settings["codecs"], None))
        return

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as route:
            route.connect((gateway, gateway_port))  # no packet: asks the routing table
            local = route.getsockname()[0]
    except OSError as exc:
        yield fail("sip gateway", f"no route to the gateway {gateway}: {exc}",
                   "check the box's network cable and IP settings: it must be on the "
                   "gateway's LAN (or have a route to it)", gateway=gateway)
        return
    if ipaddress.ip_address(advertised).is_loopback and not ipaddress.ip_address(
            gateway).is_loopback:
        yield warn("sip address", f"the box would give the gateway {advertised} as its address",
                   "set [sip] advertised_address to the box's LAN address", local=local)

    # From the configured port when free (what the gateway will see); otherwise from any port,
    # so that reachability is still known while the server runs.
    answer = ping(bind, 0 if problem else port, gateway, gateway_port, advertised)
    options = judge_options(answer, gateway, gateway_port)
    facts: dict[str, Any] = {"gateway": f"{gateway}:{gateway_port}", "local": local}
    if answer is not None:
        facts.update(code=answer.code, agent=answer.agent)

    registration: Any = None
    if settings["account"]:
        password = settings["password"] or str((config.secrets or {}).get("sip_password", ""))
        where = f"{gateway}:{gateway_port}"
        if problem:
            # Registering from another port would move the live line's registration.
            registration = warn("sip registration", "not checked: the SIP port is in use",
                                "stop edgecall serve and run doctor again")
        elif not password:
            registration = fail("sip registration", f"no password for account "
                                f"{settings['account']!r}", "put sip_password in the secrets "
                                "file (or set [sip] password)")
        else:
            try:
                codes, expires = register_once(settings, password, advertised)
            except OSError as exc:
                codes, expires = [], None
                registration = fail("sip registration", f"REGISTER not sent: {exc}",
                                    "see the sip port check")
            if registration is None:
                verdict = judge_register(codes, expires, settings["account"], where)
                registration = result("sip registration", verdict, codes=codes,
                                      expires=expires)
            if answer is None and any(c is not None for c in codes):
                # It is there and talks SIP; some registrars just ignore OPTIONS.
                options = Verdict("warn", f"the gateway at {where} answers REGISTER but not "
                                  "OPTIONS", "nothing to do unless the gateway is meant to "
                                  "answer pings")

    yield result("sip gateway", options, **facts)
    if registration is not None:
        yield registration
    yield result("sip dtmf", judge_dtmf(settings["dtmf_mode"], settings["codecs"],
                                        answer.allow if answer is not None else None))
