"""SIP transaction fixes over pyVoIP 1.6.8's SIPClient (reference defects 2, 3, 6, 7 and the
routing/registration notes). Each override says which defect it fixes."""

from __future__ import annotations

import collections
import contextlib
import logging
import queue
import random
import re
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyVoIP
import pyVoIP.VoIP
from pyVoIP.SIP import SIPClient, SIPMessage, SIPMessageType, SIPStatus

from ._message import RobustSIPMessage
from ._registration import RETRANSMIT, RegistrationPolicy, granted_expires
from ._tags import TagLibrary

if TYPE_CHECKING:
    from ._phone import HardenedPhone

log = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE"
_STOCK_ALLOW = f"Allow: {', '.join(pyVoIP.SIPCompatibleMethods)}\r\n"
_CALL_ID = re.compile(rb"^Call-ID:[ \t]*(\S+)", re.MULTILINE | re.IGNORECASE)

Address = tuple[str, int]
# screen(message, source) -> None to accept, or (code, phrase) to refuse with.
Screen = Callable[[SIPMessage, Address], tuple[int, str] | None]


class RoutingSocket:
    """Stands in for ``SIPClient.out``: pyVoIP sends every response to the configured
    (server, port); this sends a message of a known Call-ID back to where that call's requests
    came from (RFC 3261 section 18.2.2, "received"/rport), so a gateway can call the box in
    trunk mode without a registrar. Unknown Call-IDs keep pyVoIP's destination."""

    def __init__(self, sock: socket.socket, max_entries: int = 4096,
                 keep: Callable[[str], bool] | None = None) -> None:
        self.sock = sock
        self._peers: collections.OrderedDict[str, Address] = collections.OrderedDict()
        self._max = max_entries
        self._keep = keep
        self._lock = threading.Lock()

    def learn(self, call_id: str, source: Address) -> None:
        with self._lock:
            self._peers[call_id] = source
            self._peers.move_to_end(call_id)
            if self._keep is None:
                while len(self._peers) > self._max:
                    self._peers.popitem(last=False)
            elif len(self._peers) > 2 * self._max:
                # The routes of live calls stay however many others came since (a flood of
                # INVITEs once evicted a quiet call's route, and its BYE went astray);
                # trimmed in batches, amortised O(1).
                excess = len(self._peers) - self._max
                for old in list(self._peers):
                    if excess <= 0:
                        break
                    if not self._keep(old):
                        del self._peers[old]
                        excess -= 1

    def forget(self, call_id: str) -> None:
        with self._lock:
            self._peers.pop(call_id, None)

    def destination(self, data: bytes, default: Address) -> Address:
        match = _CALL_ID.search(data.split(b"\r\n\r\n", 1)[0])
        if match:
            with self._lock:
                peer = self._peers.get(match.group(1).decode("utf-8", "replace"))
            if peer is not None:
                return peer
        return default

    def sendto(self, data: bytes, address: Address) -> int:
        return self.sock.sendto(data, self.destination(data, address))

    def setblocking(self, flag: bool) -> None:
        self.sock.setblocking(flag)

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()


def _complete(message: SIPMessage) -> bool:
    """The headers every answer or dialog needs (RFC 3261 8.1.1): without them there is
    nothing to route or answer, so the datagram is dropped like a malformed one."""
    h = message.headers
    return (
        bool(h.get("Via")) and isinstance(h.get("From"), dict) and isinstance(h.get("To"), dict)
        and isinstance(h.get("CSeq"), dict) and bool(h.get("Call-ID"))
    )


class HardenedSIPClient(SIPClient):
    """SIPClient with our transaction handling. Registration is optional (``register=False`` is
    trunk mode) and supervised; the receive loop reports the source of every datagram."""

    def __init__(
        self,
        server: str,
        port: int,
        username: str,
        password: str,
        phone: HardenedPhone,
        myIP: str = "0.0.0.0",
        myPort: int = 5060,
        callCallback: Callable[[SIPMessage], None] | None = None,
        fatalCallback: Callable[..., None] | None = None,
        *,
        bind_ip: str | None = None,
        register: bool = True,
        expires: int = 300,
        screen: Screen | None = None,
        policy: RegistrationPolicy | None = None,
    ) -> None:
        super().__init__(
            server, port, username, password, phone, myIP=myIP, myPort=myPort,
            callCallback=callCallback, fatalCallback=fatalCallback,
        )
        self.bind_ip = bind_ip or myIP
        self.register_enabled = register
        self.default_expires = expires
        self.screen = screen
        self.policy = policy or RegistrationPolicy()
        self.stats: collections.Counter[str] = collections.Counter()
        self._halt = threading.Event()
        self._reg_responses: queue.Queue[SIPMessage] = queue.Queue()
        self._reg_call_id: str | None = None
        self.registration_state = "disabled" if not register else "starting"
        self.threads: list[threading.Thread] = []
        self.retransmit: tuple[float, ...] = RETRANSMIT
        # 2xx to INVITE retransmitted until the ACK (RFC 3261 13.3.1.4); stock sends it once.
        self.t1 = 0.5
        self._unacked: dict[str, list[Any]] = {}
        self._unacked_lock = threading.Lock()
        # Datagrams are read into one buffer: recvfrom(65535) allocated 64 KB per datagram
        # and shrank it, and that churn grew RSS by a third under a flood (the fuzz test).
        self._buffer = bytearray(65535)
        self._view = memoryview(self._buffer)
        self.tagLibrary = TagLibrary(
            self.tagLibrary, keep=lambda call_id: call_id in getattr(phone, "calls", {}))

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Bind and return at once. Stock start() blocks on a single REGISTER and gives up for
        good after three failures; registration here runs in a supervisor thread."""
        if self.NSD:
            raise RuntimeError("SIP client already started")
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((self.bind_ip, self.myPort))
        if self.myPort == 0:
            self.myPort = self.s.getsockname()[1]
        self.out = RoutingSocket(
            self.s, keep=lambda call_id: call_id in getattr(self.phone, "calls", {}))
        self.NSD = True
        self._halt.clear()
        targets: list[tuple[Callable[[], None], str]] = [(self.recv_loop, "sip-recv")]
        if self.register_enabled:
            targets.append((self._supervise_registration, "sip-register"))
        for target, name in targets:
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self) -> None:
        """Stop quickly (stock stop() deregisters synchronously and can block 30 s): the
        un-REGISTER is sent once, without waiting for the answer."""
        if not self.NSD:
            return
        self.NSD = False
        self._halt.set()
        if self.register_enabled and self.policy.registered:
            with contextlib.suppress(OSError):
                self.out.sendto(
                    self.gen_first_response(deregister=True).encode(), (self.server, self.port)
                )
        self._close_sockets()
        for t in self.threads:
            if t is not threading.current_thread():
                t.join(timeout=1.0)

    # --- receive ---------------------------------------------------------------------------

    def recv_loop(self) -> None:
        # select() with a timeout instead of a 10 ms non-blocking poll under a lock.
        while self.NSD:
            try:
                ready, _, _ = select.select([self.s], [], [], min(0.25, self.t1))
                self._retransmit_due()
                if not ready:
                    continue
                size, source = self.s.recvfrom_into(self._buffer)
                raw = bytes(self._view[:size])
            except (OSError, ValueError):
                if not self.NSD:
                    return
                continue
            try:
                self.handle_datagram(raw, source)
            except Exception:
                self.stats["errors"] += 1
                log.exception("SIP datagram from %s:%s not handled", *source)

    def handle_datagram(self, raw: bytes, source: Address) -> None:
        if not raw.strip(b"\r\n\x00 "):
            return  # keep-alive (CRLF or NULs)
        try:
            message = RobustSIPMessage(raw)
        except Exception as exc:
            self.stats["malformed"] += 1
            log.debug("malformed SIP datagram from %s:%s dropped: %s", source[0], source[1], exc)
            return
        if not _complete(message):
            self.stats["malformed"] += 1
            log.debug("SIP message from %s:%s without Via/From/To/Call-ID/CSeq dropped",
                      source[0], source[1])
            return
        self.stats["messages"] += 1
        if message.type == SIPMessageType.MESSAGE:
            refusal = self.screen(message, source) if self.screen else None
            if refusal is not None:
                self.stats["refused"] += 1
                if message.method not in ("ACK", "CANCEL"):
                    self.send_response(message, *refusal, destination=source)
                return
            self.out.learn(message.headers["Call-ID"], source)
        self.parse_message(message)

    def parse_message(self, message: SIPMessage) -> None:
        phone = self.phone
        if message.type != SIPMessageType.MESSAGE:
            cseq = message.headers.get("CSeq", {})
            if isinstance(cseq, dict) and cseq.get("method") == "REGISTER":
                if message.headers.get("Call-ID") == self._reg_call_id:
                    self._reg_responses.put(message)
                return
            super().parse_message(message)
            return
        method = message.method
        if method == "INVITE":
            phone.callback(message)
        elif method == "ACK":
            with self._unacked_lock:
                self._unacked.pop(message.headers["Call-ID"], None)
            phone.on_ack(message)  # the answer to a delayed offer comes in the ACK
        elif method == "BYE":
            if phone.on_bye(message):
                self.send_response(message, 200, "OK")
            else:
                self.send_response(message, 481, "Call/Transaction Does Not Exist")
        elif method == "CANCEL":
            # Defect 3: stock answered 200 only and left the call ringing.
            phone.on_cancel(message)
        elif method == "OPTIONS":
            # Defect 2: stock ignored OPTIONS; gateways that ping mark the box unreachable.
            self.send_response(
                message, 200, "OK",
                extra="Accept: application/sdp, application/dtmf-relay\r\n",
            )
        elif method == "INFO":
            # Defect 2: stock ignored INFO, so DTMF by SIP INFO was lost (and the peer retried).
            # The 200 goes first: the key may end the call, and the BYE must not overtake it.
            if message.headers["Call-ID"] in phone.calls:
                self.send_response(message, 200, "OK")
                phone.on_info(message)
            else:
                self.send_response(message, 481, "Call/Transaction Does Not Exist")
        elif method == "UPDATE":
            # Session-timer refreshes by UPDATE (RFC 4028) are answered, so the gateway does
            # not end the call when the session interval runs out; an SDP offer is answered
            # like a re-INVITE.
            call = phone.calls.get(message.headers["Call-ID"])
            if call is None:
                self.send_response(message, 481, "Call/Transaction Does Not Exist")
            elif getattr(message, "has_sdp", False) and getattr(call, "answered_once", False):
                call.renegotiate(message)
            else:
                self.send_response(message, 200, "OK")
        else:
            self.send_response(message, 501, "Not Implemented")

    # --- 2xx reliability --------------------------------------------------------------------

    def send_2xx(self, call_id: str, text: str) -> None:
        """Send a 2xx for an INVITE and keep re-sending it (T1 doubling to 4 s) until its ACK;
        after 64*T1 without one, the phone ends the call (RFC 3261 13.3.1.4)."""
        data = text.encode("utf8")
        now = time.monotonic()
        with self._unacked_lock:
            self._unacked[call_id] = [data, now + self.t1, self.t1, now + 64 * self.t1]
        self.out.sendto(data, (self.server, self.port))

    def _retransmit_due(self) -> None:
        now = time.monotonic()
        due: list[bytes] = []
        expired: list[str] = []
        with self._unacked_lock:
            for call_id, entry in list(self._unacked.items()):
                if now >= entry[3]:
                    expired.append(call_id)
                    del self._unacked[call_id]
                elif now >= entry[1]:
                    due.append(entry[0])
                    entry[2] = min(entry[2] * 2, 4.0)
                    entry[1] = now + entry[2]
        for data in due:
            with contextlib.suppress(OSError):
                self.out.sendto(data, (self.server, self.port))
        for call_id in expired:
            log.warning("no ACK for call %s: ending it", call_id[:12])
            self.phone.on_ack_timeout(call_id)

    # --- messages we generate --------------------------------------------------------------

    # Stock gen_tag keeps every tag ever made in a list and scans it for each new one (memory
    # and time grow with every request answered); 32 random bits need no such list (nor
    # os.urandom: a tag is not a secret).
    def gen_tag(self) -> str:
        return f"{random.getrandbits(32):08x}"

    def _to_tag(self, request: SIPMessage) -> str:
        existing = request.headers["To"].get("tag", "")
        if existing:
            return existing
        call_id = request.headers["Call-ID"]
        if call_id not in self.tagLibrary:
            self.tagLibrary[call_id] = self.gen_tag()
        return self.tagLibrary[call_id]

    def gen_response(
        self, request: SIPMessage, code: int, phrase: str, extra: str = "", body: str = ""
    ) -> str:
        """A response with the request's Via/From/Call-ID/CSeq and the dialog's To-tag (stock
        gen_ok invents a new To-tag for every response)."""
        from_h = request.headers["From"]
        from_tag = f";tag={from_h['tag']}" if from_h.get("tag") else ""
        out = f"SIP/2.0 {code} {phrase}\r\n"
        out += self._gen_response_via_header(request)
        out += f"From: {from_h['raw']}{from_tag}\r\n"
        out += f"To: {request.headers['To']['raw']};tag={self._to_tag(request)}\r\n"
        out += f"Call-ID: {request.headers['Call-ID']}\r\n"
        out += f"CSeq: {request.headers['CSeq']['check']} {request.headers['CSeq']['method']}\r\n"
        out += f"Allow: {ALLOW}\r\n"
        out += f"User-Agent: edgecall (pyVoIP {pyVoIP.__version__})\r\n"
        out += extra
        out += f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
        return out

    def send_response(
        self, request: SIPMessage, code: int, phrase: str, extra: str = "",
        destination: Address | None = None,
    ) -> None:
        data = self.gen_response(request, code, phrase, extra).encode()
        try:
            if destination is not None:
                self.s.sendto(data, destination)
            else:
                self.out.sendto(data, (self.server, self.port))
        except OSError as exc:
            log.debug("SIP response %s not sent: %s", code, exc)

    def gen_answer(self, request: SIPMessage, sess_id: str, ms: Any, sendtype: Any) -> str:
        return super().gen_answer(request, sess_id, ms, sendtype).replace(
            _STOCK_ALLOW, f"Allow: {ALLOW}\r\n"
        )

    def gen_ringing(self, request: SIPMessage) -> str:
        """180 with the dialog's To-tag, the same for retransmissions (stock makes a new tag
        each time and fails on an INVITE without Contact)."""
        return self.gen_response(request, 180, "Ringing")

    def gen_bye(self, request: SIPMessage) -> str:
        """Defect 7: stock BYE copies the INVITE's Via and uses its CSeq + 1. A UAS's BYE has
        its own Via and branch, From/To swapped with our tag, and our own CSeq space."""
        tag = self.tagLibrary[request.headers["Call-ID"]]
        contact = str(request.headers.get("Contact", ""))
        match = re.search(r"<([^>]+)>", contact)
        target = match.group(1) if match else contact.split(";")[0].strip()
        if not target:
            target = "sip:" + str(request.headers["From"]["address"])
        their = request.headers["From"]
        ours = request.headers["To"]
        out = f"BYE {target} SIP/2.0\r\n"
        out += f"Via: SIP/2.0/UDP {self.myIP}:{self.myPort};branch={self.gen_branch()};rport\r\n"
        out += f"From: {ours['raw']};tag={tag}\r\n"
        out += f"To: {their['raw']};tag={their['tag']}\r\n"
        out += f"Call-ID: {request.headers['Call-ID']}\r\n"
        out += f"CSeq: {self.byeCounter.next()} BYE\r\n"
        out += "Max-Forwards: 70\r\n"
        out += f"Contact: <sip:{self.username or 'edgecall'}@{self.myIP}:{self.myPort}>\r\n"
        out += f"User-Agent: edgecall (pyVoIP {pyVoIP.__version__})\r\n"
        out += "Content-Length: 0\r\n\r\n"
        return out

    # --- registration ----------------------------------------------------------------------

    def _supervise_registration(self) -> None:
        """Register, refresh per the granted Expires, retry with backoff after failures; never
        give up while the line runs (stock: FAILED after three failures, for good)."""
        while self.NSD:
            self.registration_state = "registering"
            try:
                expires = self._register_once()
            except Exception as exc:  # a bad response must not end supervision
                log.debug("REGISTER error: %s", exc)
                expires = None
            if expires is not None:
                delay = self.policy.success(expires)
                self.registration_state = "registered"
                log.info("registered at %s:%s for %s s", self.server, self.port, expires)
            else:
                delay = self.policy.failure()
                self.registration_state = "retrying"
                log.warning(
                    "registration at %s:%s failed (%d in a row), retrying in %.0f s",
                    self.server, self.port, self.policy.failures, delay,
                )
            if self._halt.wait(delay):
                return

    def _transact(self, text: str) -> SIPMessage | None:
        """Send a REGISTER with retransmissions; the final response or None on timeout."""
        data = text.encode()
        for wait in self.retransmit:
            if not self.NSD:
                return None
            self.out.sendto(data, (self.server, self.port))
            try:
                response = self._reg_responses.get(timeout=wait)
            except queue.Empty:
                continue
            while response.status == SIPStatus.TRYING:
                try:
                    response = self._reg_responses.get(timeout=sum(self.retransmit))
                except queue.Empty:
                    return None
            return response
        return None

    def _register_once(self) -> int | None:
        while not self._reg_responses.empty():
            self._reg_responses.get_nowait()
        # One Call-ID for every REGISTER of this run (RFC 3261 10.2; stock makes a new one each
        # time, which registrars treat as a new binding).
        if self._reg_call_id is None:
            self._reg_call_id = self.gen_call_id()
        first = re.sub(
            r"Call-ID: [^\r\n]*", f"Call-ID: {self._reg_call_id}", self.gen_first_response(),
            count=1,
        ).replace(_STOCK_ALLOW, f"Allow: {ALLOW}\r\n")
        response = self._transact(first)
        if response is not None and int(response.status) in (401, 407):
            if int(response.status) == 407:
                challenge = response.header_values("Proxy-Authenticate") if isinstance(
                    response, RobustSIPMessage) else []
                if challenge:
                    response.authentication = dict(
                        (k, v.strip('"')) for k, v in response.auth_match.findall(
                            challenge[0].replace("Digest ", ""))
                    )
            text = self.gen_register(response)
            if int(response.status) == 407:
                text = text.replace("\r\nAuthorization:", "\r\nProxy-Authorization:")
            response = self._transact(text)
        if response is None or response.status != SIPStatus.OK:
            return None
        contacts = (
            response.header_values("Contact") if isinstance(response, RobustSIPMessage) else []
        )
        return granted_expires(response.headers.get("Expires"), contacts, self.default_expires)
