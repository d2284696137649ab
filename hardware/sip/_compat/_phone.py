"""Phone fixes over pyVoIP 1.6.8's VoIPPhone (reference defects 3, 4, 6 and registration)."""

from __future__ import annotations

import logging
import random
import re
import secrets
import socket
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import replace

from edge.logthrottle import LogThrottle

from ._call import HardenedCall
from ._client import HardenedSIPClient, Screen
from ._dialog import Identity, InviteRequest
from ._engine import RtpEngine
from ._message import RobustSIPMessage
from ._placed import PlacedCall
from ._placing import Placing
from ._pyvoip import CallState, NoPortsAvailableError, SIPMessage, VoIPCall, VoIPPhone
from ._register import ALLOW, USER_AGENT
from ._registration import RegistrationPolicy
from ._sdp import SdpError

log = logging.getLogger(__name__)
_throttled = LogThrottle(log)

_SIGNAL = re.compile(r"^\s*Signal\s*=\s*(\S+)", re.MULTILINE | re.IGNORECASE)


def info_digit(content_type: str, body: str) -> str | None:
    """The key in a SIP INFO body: ``application/dtmf-relay`` ("Signal=5") or
    ``application/dtmf`` (just "5"). None for anything else."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/dtmf-relay":
        match = _SIGNAL.search(body)
        key = match.group(1).upper() if match else ""
    elif ctype == "application/dtmf":
        key = body.strip().upper()
    else:
        return None
    key = {"10": "*", "11": "#"}.get(key, key)  # some phones send the event code
    return key if len(key) == 1 and key in "0123456789*#ABCD" else None


class HardenedPhone(VoIPPhone):
    """VoIPPhone on our client and call classes.

    ``callCallback`` is run on the SIP thread at once (stock waits a fixed 1 s in a Timer
    thread per call) and must return quickly.
    """

    def __init__(
        self,
        server: str,
        port: int,
        username: str,
        password: str,
        myIP: str = "0.0.0.0",
        callCallback: Callable[[VoIPCall], None] | None = None,
        sipPort: int = 5060,
        rtpPortLow: int = 10000,
        rtpPortHigh: int = 20000,
        *,
        advertise_ip: str | None = None,
        register: bool = False,
        expires: int = 300,
        codecs: Sequence[str] = ("PCMU", "PCMA"),
        screen: Screen | None = None,
        policy: RegistrationPolicy | None = None,
        shared_rtp: bool = True,
    ) -> None:
        # One pacing loop and one receive loop for all calls instead of two threads per call.
        self.rtp_engine = RtpEngine() if shared_rtp else None
        super().__init__(
            server, port, username, password, myIP=myIP, callCallback=callCallback,
            sipPort=sipPort, rtpPortLow=rtpPortLow, rtpPortHigh=rtpPortHigh,
        )
        self.codecs = list(codecs)
        # The user part of our Contact: "sip:@host" (no account, trunk mode) is not a valid URI.
        self.sip = HardenedSIPClient(
            server, port, username or "edgecall", password, phone=self, myIP=advertise_ip or myIP,
            myPort=sipPort, callCallback=self.callback, fatalCallback=self.fatal,
            bind_ip=myIP, register=register, expires=expires, screen=screen, policy=policy,
        )
        self.callsLock = threading.Lock()

    # --- incoming requests -----------------------------------------------------------------

    def _callback_MSG_Invite(self, request: SIPMessage) -> None:
        call_id = request.headers["Call-ID"]
        existing = self.calls.get(call_id)
        if existing is not None:
            if existing.state == CallState.ANSWERED:
                existing.renegotiate(request)  # defect 4: see HardenedCall.renegotiate
            elif existing.state == CallState.RINGING:
                self._send(self.sip.gen_ringing(request))  # a retransmitted INVITE
            return
        if self.callCallback is None:
            self.sip.send_response(request, 486, "Busy Here")
            return
        self.sip.send_response(request, 100, "Trying")
        sess_id = random.randint(1, 100000)
        try:
            call = HardenedCall(
                self, CallState.RINGING, request, sess_id, self.myIP, sendmode=self.recvmode
            )
        except NoPortsAvailableError:
            _throttled.warning("no-port", "INVITE refused (503): no free RTP port; widen "
                               "rtp_port_low..rtp_port_high")
            self.sip.send_response(request, 503, "Service Unavailable")
            return
        except SdpError as exc:
            self.refuse_offer(request, exc)
            return
        except Exception:  # whatever it was, the caller gets a final answer
            log.warning("INVITE refused (500): the call could not be set up", exc_info=True)
            self.sip.send_response(request, 500, "Server Internal Error")
            return
        with self.callsLock:
            self.calls[call_id] = call
        try:
            self._send(self.sip.gen_ringing(request))
            self.callCallback(call)
        except Exception:
            log.exception("call could not be offered; refusing it")
            call.hangup()  # ends it (480) and forgets it: no call is left ringing unseen

    def refuse_offer(self, request: SIPMessage, exc: SdpError) -> None:
        """488 Not Acceptable Here for an SDP offer we cannot use, with a Warning saying why
        (RFC 3261 21.4.26, 20.43)."""
        _throttled.log(logging.INFO, "sdp-refused", "%s refused (488): %s", request.method,
                       exc.reason)
        text = exc.reason.replace('"', "'").replace("\\", "/")
        self.sip.send_response(request, 488, "Not Acceptable Here",
                               extra=f'Warning: {exc.warning} {self.sip.myIP} "{text}"\r\n')

    def _callback_MSG_Bye(self, request: SIPMessage) -> None:
        self.on_bye(request)

    def on_bye(self, request: SIPMessage) -> bool:
        call = self.calls.get(request.headers["Call-ID"])
        if call is None:
            return False
        call.bye()
        return True

    def on_cancel(self, request: SIPMessage) -> None:
        """Defect 3: 200 for the CANCEL, then 487 for the INVITE, and the call ends (stock left
        it ringing, answered it a second later and sent a 200 OK after the CANCEL)."""
        call = self.calls.get(request.headers["Call-ID"])
        if call is None:
            self.sip.send_response(request, 481, "Call/Transaction Does Not Exist")
            return
        self.sip.send_response(request, 200, "OK")
        invite = call.request
        if isinstance(call, HardenedCall) and call.cancel():
            self.sip.send_response(invite, 487, "Request Terminated")

    def on_notify(self, request: SIPMessage) -> None:
        """A NOTIFY about a REFER we sent (Event: refer): 200, and its sipfrag goes to the
        call. Any other event package: 489 Bad Event (RFC 6665); no such call: 481."""
        call = self.calls.get(request.headers["Call-ID"])
        event = str(request.headers.get("Event", "")).split(";")[0].strip().lower()
        if not isinstance(call, HardenedCall) or call.transfer is None:
            self.sip.send_response(request, 481, "Call/Transaction Does Not Exist")
        elif event != "refer":
            self.sip.send_response(request, 489, "Bad Event")
        else:
            self.sip.send_response(request, 200, "OK")
            call.notified(request)

    def on_ack(self, request: SIPMessage) -> None:
        """An ACK: for a call whose 200 carried our offer (delayed offer), the answer."""
        call = self.calls.get(request.headers["Call-ID"])
        if isinstance(call, HardenedCall) and call.awaiting_answer:
            call.take_answer(request)

    def on_ack_timeout(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if isinstance(call, HardenedCall):
            call.no_ack()

    def on_info(self, request: SIPMessage) -> bool:
        call = self.calls.get(request.headers["Call-ID"])
        if call is None:
            return False
        body = getattr(request, "raw_body", b"").decode("utf-8", "replace")
        digit = info_digit(str(request.headers.get("Content-Type", "")), body)
        if digit is not None and isinstance(call, HardenedCall):
            call.listener.on_digit(digit, "info")
        return True

    # --- calls we place ------------------------------------------------------------------

    def place(self, number: str, from_user: str, display: str = "") -> Placing:
        """A call to ``number`` through the gateway (trunk mode) or the registrar/proxy we
        register with, both ``server``:``port``; ready to ``start()``. Its media stream is
        bound now (NoPortsAvailableError when none is free) and the call is known to the phone
        (in-dialog requests from the far end find it)."""
        sip = self.sip
        me = Identity(sip.myIP, sip.myPort, f"sip:{sip.username}@{sip.myIP}:{sip.myPort}",
                      USER_AGENT, ALLOW)
        hostport = self.server + (f":{self.port}" if self.port != 5060 else "")
        user = urllib.parse.quote(number, safe="+*")  # a '#' or ';' must not end the user part
        # Registered: From is our address of record at the registrar; trunk mode: at this box.
        domain = self.server if sip.register_enabled else sip.myIP
        name = f'"{display}" ' if display else ""
        invite = InviteRequest(
            me, f"sip:{user}@{hostport}", f"{name}<sip:{urllib.parse.quote(from_user)}@{domain}>",
            sip.gen_tag(), f"<sip:{user}@{hostport}>", f"{secrets.token_hex(16)}@{sip.myIP}", 1,
            sip.gen_branch(), body="")
        call = PlacedCall(self, RobustSIPMessage(invite.text().encode()),
                          random.randint(1, 100000), self.myIP, sendmode=self.recvmode)
        invite = replace(invite, body=call.offer())
        call.request = RobustSIPMessage(invite.text().encode())
        sip.tagLibrary[invite.call_id] = invite.from_tag  # our tag in this dialog
        with self.callsLock:
            self.calls[invite.call_id] = call
        placing = Placing(sip, call, invite, (self.server, self.port), sip.digest, t1=sip.t1)
        call.placing = placing
        return placing

    def _send(self, text: str) -> None:
        try:
            self.sip.out.sendto(text.encode("utf8"), (self.server, self.port))
        except OSError as exc:
            log.debug("SIP send failed: %s", exc)

    # --- ports and lifecycle ---------------------------------------------------------------

    def request_port(self, blocking: bool = True) -> int:
        # Never blocks (stock loops while no port is free); a full range refuses the call.
        # Even ports only: RTP even, RTCP on the odd one above (RFC 3550 section 11).
        with self.portsLock:
            used = set(self.assignedPorts)
            first = self.rtpPortLow + (self.rtpPortLow % 2)
            free = [p for p in range(first, self.rtpPortHigh + 1, 2) if p not in used]
            if not free:
                raise NoPortsAvailableError("no RTP port free")
            port = random.choice(free)
            self.assignedPorts.append(port)
            return port

    def open_rtp_port(self) -> tuple[int, socket.socket]:
        """A free even RTP port, bound now (stock binds only when the call is answered, so a
        port another program holds failed the answer and the INVITE never got a final
        response). A taken port is skipped for the next free one; none left: 503."""
        taken: list[int] = []
        with self.portsLock:
            used = set(self.assignedPorts)
            first = self.rtpPortLow + (self.rtpPortLow % 2)
            free = [p for p in range(first, self.rtpPortHigh + 1, 2) if p not in used]
            start = random.randrange(len(free)) if free else 0
            for port in free[start:] + free[:start]:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    sock.bind((self.myIP, port))
                except OSError:
                    sock.close()
                    taken.append(port)
                    continue
                self.assignedPorts.append(port)
                break
            else:
                raise NoPortsAvailableError("no RTP port free")
        if taken:
            _throttled.warning("port-taken", "RTP port(s) %s in use by another program; "
                               "took %d", ",".join(map(str, taken[:5])), port)
        return port, sock

    def release_port(self, port: int) -> None:
        with self.portsLock:
            if port in self.assignedPorts:
                self.assignedPorts.remove(port)

    def release_ports(self, call: VoIPCall | None = None) -> None:
        """Idempotent: only the given call's ports (stock also walks dead timer threads)."""
        if call is None:
            return
        with self.portsLock:
            for port in list(call.assignedPorts):
                if port in self.assignedPorts:
                    self.assignedPorts.remove(port)
            call.assignedPorts = {}

    def forget_call(self, call: HardenedCall) -> None:
        """A call ended: forget it. Its RTP port comes back when its socket is closed (defect 6:
        stock never returned an inbound call's port). Its route stays (the 200 for a BYE or
        the 487 after a CANCEL still go to the caller); routes age out."""
        with self.callsLock:
            if self.calls.get(call.call_id) is call:
                del self.calls[call.call_id]

    def start(self) -> None:
        if self.rtp_engine is not None:
            self.rtp_engine.start()
        self.sip.start()
        self.NSD = True

    def stop(self, failed: bool = False) -> None:
        """Quick: BYE each call, close sockets, join threads briefly (stock can block 30 s)."""
        for call in list(self.calls.values()):
            try:
                call.hangup()
            except Exception as exc:
                log.debug("hangup on stop failed: %s", exc)
        self.NSD = False
        self.sip.stop()
        if self.rtp_engine is not None:
            self.rtp_engine.stop()

    def registration_state(self) -> str:
        return self.sip.registration_state
