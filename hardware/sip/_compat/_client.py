"""SIP transaction fixes over pyVoIP 1.6.8's SIPClient (reference defects 2, 3, 6, 7 and the
routing/registration notes). Each override says which defect it fixes; registration is in
``_registering``, our retransmitted requests in ``_outbound``."""

from __future__ import annotations

import collections
import contextlib
import logging
import random
import re
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from edge.logthrottle import LogThrottle

from ._dialog import Dialog
from ._invites import InviteClient
from ._message import RobustSIPMessage
from ._outbound import Outbound
from ._pyvoip import STOCK_METHODS, SIPClient, SIPMessage, SIPMessageType
from ._register import ALLOW, USER_AGENT
from ._registering import Registering
from ._registration import RETRANSMIT, RegistrationPolicy
from ._routeset import RouteSet
from ._tags import TagLibrary

if TYPE_CHECKING:
    from ._phone import HardenedPhone

log = logging.getLogger(__name__)

_STOCK_ALLOW = f"Allow: {', '.join(STOCK_METHODS)}\r\n"
_CALL_ID = re.compile(rb"^Call-ID:[ \t]*(\S+)", re.MULTILINE | re.IGNORECASE)
_BRANCH = re.compile(r";branch=([^;\s]+)")

Address = tuple[str, int]
# screen(message, source) -> None to accept, or (code, phrase) to refuse with; DROP refuses
# without any reply.
Screen = Callable[[SIPMessage, Address], tuple[int, str] | None]
DROP = (0, "")


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

    def peer(self, call_id: str) -> Address | None:
        with self._lock:
            return self._peers.get(call_id)

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


class HardenedSIPClient(Registering, SIPClient):
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
        self.registration_state = "disabled" if not register else "starting"
        self.threads: list[threading.Thread] = []
        self.retransmit: tuple[float, ...] = RETRANSMIT
        # 2xx to INVITE retransmitted until the ACK (RFC 3261 13.3.1.4); stock sends it once.
        # T1 also paces our BYE's retransmissions.
        self.t1 = 0.5
        self._unacked: dict[str, list[Any]] = {}
        self._unacked_lock = threading.Lock()
        # Our requests are retransmitted until answered (stock sends a BYE once).
        self.outbound = Outbound(self._send_to)
        # Our INVITEs (calls we place): timers A/B/D/M, matched like the requests above.
        self.invites = InviteClient(self._send_to)
        self.stop_wait = 1.0  # how long stop() waits for answers to our BYEs and un-REGISTER
        self._routes: collections.OrderedDict[str, RouteSet] = collections.OrderedDict()
        self._routes_lock = threading.Lock()
        # A flood of garbage or refused calls is summarised, one line a minute.
        self.noise = LogThrottle(log)
        self.setup_registration(username, password)
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
        un-REGISTER (answering a digest challenge) and the BYEs already sent get up to
        ``stop_wait`` seconds for their answers, then the socket closes."""
        if not self.NSD:
            return
        self._halt.set()
        if self.register_enabled and self.policy.registered:
            self.unregister()
        deadline = time.monotonic() + self.stop_wait
        while self.outbound.busy() and time.monotonic() < deadline:
            time.sleep(0.02)
        self.NSD = False
        self.outbound.clear()
        self.invites.clear()
        with contextlib.suppress(OSError):  # wakes the receive loop's select()
            self.s.sendto(b"", ("127.0.0.1" if self.bind_ip == "0.0.0.0" else self.bind_ip,
                                self.myPort))
        self._close_sockets()
        for t in self.threads:
            if t is not threading.current_thread():
                t.join(timeout=1.0)

    # --- receive ---------------------------------------------------------------------------

    def recv_loop(self) -> None:
        # select() with a timeout instead of a 10 ms non-blocking poll under a lock.
        while self.NSD:
            try:
                ready, _, _ = select.select([self.s], [], [], self._wait())
                self._retransmit_due()
                self.outbound.run_timers()
                self.invites.run_timers()
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

    def _wait(self) -> float:
        """How long select() may wait: until our next retransmission, at most 0.25 s."""
        wait = min(0.25, self.t1)
        for due in (self.outbound.due(), self.invites.due()):
            if due is not None:
                wait = min(wait, max(due - time.monotonic(), 0.0))
        return wait

    def handle_datagram(self, raw: bytes, source: Address) -> None:
        if not raw.strip(b"\r\n\x00 "):
            return  # keep-alive (CRLF or NULs)
        try:
            message = RobustSIPMessage(raw)
        except Exception as exc:
            self._malformed(source, str(exc))
            return
        if not _complete(message):
            self._malformed(source, "no Via/From/To/Call-ID/CSeq")
            return
        self.stats["messages"] += 1
        if message.type != SIPMessageType.MESSAGE:
            self._response(message, source)
            return
        refusal = self.screen(message, source) if self.screen else None
        if refusal is not None:
            self.stats["refused"] += 1
            if refusal != DROP and message.method not in ("ACK", "CANCEL"):
                self.send_response(message, *refusal, destination=source)
            return
        self.out.learn(message.headers["Call-ID"], source)
        self.parse_message(message)

    def _malformed(self, source: Address, why: str) -> None:
        self.stats["malformed"] += 1
        if log.isEnabledFor(logging.DEBUG):  # a debugging session sees every one
            log.debug("malformed SIP datagram from %s:%s dropped: %s", source[0], source[1], why)
        else:
            self.noise.warning("malformed", "malformed SIP datagram from %s:%s dropped: %s",
                               source[0], source[1], why)

    def _response(self, message: SIPMessage, source: Address | None) -> None:
        """A response is ours (a transaction we run) or a stray: a late retransmission, a 404 or
        503 to nothing we sent, a scan. Strays are counted and dropped without a reply (stock
        printed a TODO to stdout, raised KeyError on 404/503 of an unknown Call-ID and answered
        200s with an ACK to its server)."""
        if self.invites.on_response(message, source) or self.outbound.on_response(message):
            return
        self.stats["stray"] += 1
        log.debug("stray SIP response %s (CSeq %s) from %s dropped", int(message.status),
                  message.headers["CSeq"].get("method"), f"{source[0]}:{source[1]}" if source
                  else "?")

    def parse_message(self, message: SIPMessage) -> None:
        phone = self.phone
        if message.type != SIPMessageType.MESSAGE:
            self._response(message, None)  # never stock's: see _response
            return
        method = message.method
        if method == "INVITE":
            self._remember_routes(message)
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
        elif method == "NOTIFY":
            # How a transfer we asked for (REFER) is going; stock ignored NOTIFY.
            phone.on_notify(message)
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
        if request.method == "INVITE" and 100 < code < 300:
            out += _record_route(request)  # a dialog-creating response (RFC 3261 12.1.1)
        out += f"Allow: {ALLOW}\r\n"
        out += f"User-Agent: {USER_AGENT}\r\n"
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
        """Stock 200 with our Allow, and the request's Record-Route copied (stock drops it, so a
        record-routing proxy is left out of the dialog)."""
        text = super().gen_answer(request, sess_id, ms, sendtype).replace(
            _STOCK_ALLOW, f"Allow: {ALLOW}\r\n"
        )
        status, rest = text.split("\r\n", 1)
        return f"{status}\r\n{_record_route(request)}{rest}"

    def gen_ringing(self, request: SIPMessage) -> str:
        """180 with the dialog's To-tag, the same for retransmissions (stock makes a new tag
        each time and fails on an INVITE without Contact)."""
        return self.gen_response(request, 180, "Ringing")

    def gen_bye(self, request: SIPMessage) -> str:
        """Defect 7: stock BYE copies the INVITE's Via and uses its CSeq + 1. A UAS's BYE has
        its own Via and branch, From/To swapped with our tag, and our own CSeq space. It follows
        the dialog's route set (stock ignores Record-Route)."""
        return self.gen_in_dialog(request, "BYE")

    def gen_in_dialog(self, request: SIPMessage, method: str, extra: str = "") -> str:
        """A request of ours in the dialog a caller's INVITE made (we are its UAS): BYE, REFER.
        ``extra``: more header lines, each ending in CRLF."""
        call_id = request.headers["Call-ID"]
        tag = self.tagLibrary[call_id]
        contact = str(request.headers.get("Contact", ""))
        match = re.search(r"<([^>]+)>", contact)
        target = match.group(1) if match else contact.split(";")[0].strip()
        if not target:
            target = "sip:" + str(request.headers["From"]["address"])
        uri, routes, _ = self.route_set(call_id).request(target)
        their = request.headers["From"]
        ours = request.headers["To"]
        out = f"{method} {uri} SIP/2.0\r\n"
        out += f"Via: SIP/2.0/UDP {self.myIP}:{self.myPort};branch={self.gen_branch()};rport\r\n"
        out += "".join(f"Route: {route}\r\n" for route in routes)
        out += f"From: {ours['raw']};tag={tag}\r\n"
        out += f"To: {their['raw']};tag={their['tag']}\r\n"
        out += f"Call-ID: {call_id}\r\n"
        out += f"CSeq: {self.byeCounter.next()} {method}\r\n"
        out += "Max-Forwards: 70\r\n"
        out += f"Contact: <sip:{self.username or 'edgecall'}@{self.myIP}:{self.myPort}>\r\n"
        out += extra
        out += f"User-Agent: {USER_AGENT}\r\n"
        out += "Content-Length: 0\r\n\r\n"
        return out

    def refer(self, request: SIPMessage, refer_to: str,
              on_final: Callable[[SIPMessage | None], None]) -> None:
        """REFER (RFC 3515) in a caller's dialog: asks the gateway to call ``refer_to`` and
        connect the caller to it (a blind transfer). A client transaction like our BYE;
        ``on_final`` gets its final response (None: none in 64*T1). The outcome comes later
        in NOTIFYs (``HardenedPhone.on_notify``). Referred-By says who asked (RFC 3892)."""
        ours = f"<sip:{self.username or 'edgecall'}@{self.myIP}:{self.myPort}>"
        text = self.gen_in_dialog(request, "REFER",
                                  f"Refer-To: <{refer_to}>\r\nReferred-By: {ours}\r\n")
        call_id = request.headers["Call-ID"]
        data = text.encode("utf8")
        _, _, hop = self.route_set(call_id).request("")
        destination = hop or self.out.destination(data, (self.server, self.port))
        branch = _BRANCH.search(text.split("\r\n", 2)[1])
        self.outbound.start(data, destination, branch.group(1) if branch else "", "REFER",
                            t1=self.t1, on_final=on_final)

    def bye(self, request: SIPMessage) -> None:
        """Our BYE as a client transaction: retransmitted (T1 doubling to T2) until a final
        response or 64*T1 (RFC 3261 17.1.2). Stock sends it once, so one lost datagram left the
        GSM call up. It goes to the first route, else where the call came from."""
        text = self.gen_bye(request)
        call_id = request.headers["Call-ID"]
        data = text.encode("utf8")
        _, _, hop = self.route_set(call_id).request("")
        destination = hop or self.out.destination(data, (self.server, self.port))
        branch = _BRANCH.search(text.split("\r\n", 2)[1])
        self.outbound.start(
            data, destination, branch.group(1) if branch else "", "BYE", t1=self.t1,
            on_final=lambda response: self._bye_answered(call_id, response),
        )

    def bye_dialog(self, dialog: Dialog) -> None:
        """Our BYE in a dialog our INVITE created (a call we placed): through its route set,
        else to where its 2xx came from; retransmitted like every BYE of ours."""
        text = dialog.request("BYE", self.gen_branch())
        hop = dialog.next_hop() or self.out.peer(dialog.call_id) or (self.server, self.port)
        branch = _BRANCH.search(text.split("\r\n", 2)[1])
        self.outbound.start(
            text.encode("utf8"), hop, branch.group(1) if branch else "", "BYE", t1=self.t1,
            on_final=lambda response: self._bye_answered(dialog.call_id, response),
        )

    def _bye_answered(self, call_id: str, response: SIPMessage | None) -> None:
        if response is None:
            log.warning("BYE for call %s not answered in %.0f s: the caller's side may still be "
                        "up (check the gateway)", call_id[:12], 64 * self.t1)
        elif int(response.status) >= 300:
            log.info("BYE for call %s answered %s", call_id[:12], int(response.status))

    def _send_to(self, data: bytes, destination: Address) -> None:
        self.s.sendto(data, destination)

    # --- dialogs' route sets -----------------------------------------------------------------

    def _remember_routes(self, invite: SIPMessage) -> None:
        """The route set is fixed by the dialog's first INVITE (RFC 3261 12.1.1); a re-INVITE
        does not change it. Bounded like the response routes."""
        lines = invite.header_values("Record-Route") if isinstance(invite, RobustSIPMessage) \
            else []
        call_id = invite.headers["Call-ID"]
        with self._routes_lock:
            if not lines or call_id in self._routes:
                return
            self._routes[call_id] = RouteSet.from_request(lines)
            while len(self._routes) > 4096:
                self._routes.popitem(last=False)

    def route_set(self, call_id: str) -> RouteSet:
        with self._routes_lock:
            return self._routes.get(call_id) or RouteSet()


def _record_route(request: SIPMessage) -> str:
    lines = request.header_values("Record-Route") if isinstance(request, RobustSIPMessage) else []
    return RouteSet.from_request(lines).response_lines()
