"""Call fixes over pyVoIP 1.6.8's VoIPCall (reference defects 3, 4, 6) and the media side of a
call: the offer checked and chosen from (``_sdp``), delayed offer, a=ptime, busy (486)."""

from __future__ import annotations

import audioop
import contextlib
import functools
import ipaddress
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._capture import AudioCapture
from ._pyvoip import RTP, CallState, InvalidStateError, SIPMessage, VoIPCall
from ._refer import Transfer
from ._rtp import HardenedRTPClient
from ._sdp import (
    DEFAULT_PTIME,
    EVENT_PT,
    AudioChoice,
    SdpError,
    SessionDescription,
    answer_sdp,
    choose_audio,
    offer_sdp,
)

if TYPE_CHECKING:
    from ._phone import HardenedPhone

log = logging.getLogger(__name__)

_CODEC = {"PCMU": RTP.PayloadType.PCMU, "PCMA": RTP.PayloadType.PCMA}


def _with_sdp(message: str, sdp: str) -> str:
    """A 200 from the client's gen_answer (its headers: To-tag, Contact, Allow) carrying our
    SDP instead of pyVoIP's (which ignores a=ptime, the offer's other streams and the rules of
    RFC 3264, and cannot make an offer)."""
    head = message.split("\r\n\r\n", 1)[0]
    head = re.sub(r"(?im)^Content-Length:.*$", f"Content-Length: {len(sdp.encode())}", head)
    return head + "\r\n\r\n" + sdp


class CallListener:
    """What a call tells its owner (the line); every method is called from a pyVoIP thread."""

    def on_digit(self, digit: str, source: str) -> None: ...

    def on_audio(self, frame: bytes) -> None: ...

    def on_ended(self, reason: str) -> None: ...

    def on_transfer(self, status: str, detail: str) -> None: ...


class HardenedCall(VoIPCall):
    """VoIPCall with a lock around state changes, explicit port release, a listener, and its
    media set up from our checked SDP."""

    phone: HardenedPhone

    def __init__(self, phone: HardenedPhone, callstate: CallState, request: SIPMessage,
                 session_id: int, myIP: str, **kwargs: Any) -> None:
        self.lock = threading.RLock()
        self.listener: CallListener = CallListener()
        self.media_ok = False
        self.telephone_event = False
        self.end_reason: str | None = None
        self.answered_once = False
        self.awaiting_answer = False  # we offered (delayed offer): the answer comes in the ACK
        self._offer: SessionDescription | None = None
        self._choice: AudioChoice | None = None
        self._sdp_version = 0
        self._sdp_shape = ""
        self.transfer: Transfer | None = None  # the REFER in progress, if any
        # Stock sets media up only for a RINGING (or DIALING) call, from its own unchecked
        # parse of the SDP: a port of 70000 went straight to sendto. Constructed as ENDED it
        # sets the call's fields only; the media come from our checked offer.
        super().__init__(phone, CallState.ENDED, request, session_id, myIP, **kwargs)
        self.state = callstate
        if callstate == CallState.RINGING:
            self._set_up_media(request)

    # --- media -----------------------------------------------------------------------------

    def _set_up_media(self, request: SIPMessage) -> None:
        """One RTP stream from the offer (SdpError when it is unusable: the phone answers 488),
        or, for an INVITE without SDP, a stream waiting for the answer our 200 will ask for.
        Its port is bound now, so the SDP we send names a port we hold."""
        error: SdpError | None = getattr(request, "sdp_error", None)
        if error is not None:
            raise error
        self._offer = getattr(request, "sdp", None)
        if self._offer is None and getattr(request, "has_sdp", False):
            raise SdpError("SDP body without a usable session")
        if self._offer is not None:
            self._choice = choose_audio(self._offer, self.phone.codecs)
            assoc = self._assoc(self._choice)
        else:  # delayed offer: receive anything we will offer
            assoc = {int(_CODEC[c].value): _CODEC[c] for c in self.phone.codecs}
            assoc[EVENT_PT] = RTP.PayloadType.EVENT
        choice = self._choice
        port, sock = self.phone.open_rtp_port()
        try:
            client = HardenedRTPClient(
                assoc, self.myIP, port, choice.address if choice else "0.0.0.0",
                choice.port if choice else 0, self.sendmode, dtmf=self._rtp_digit,
                engine=self.phone.rtp_engine, sock=sock,
                ptime=choice.ptime if choice else DEFAULT_PTIME,
            )
        except Exception:
            sock.close()
            self.phone.release_port(port)
            raise
        client.on_closed = functools.partial(self.phone.release_port, port)
        client.hold = choice is None or choice.hold
        client.inbound.listener = self._audio
        client.on_fault = self._media_failed
        self.RTPClients.append(client)
        self.telephone_event = bool(choice and choice.event_pt is not None)
        self.media_ok = True

    @staticmethod
    def _assoc(choice: AudioChoice) -> dict[int, RTP.PayloadType]:
        """Payload types of a stream: the codec we send first (pyVoIP sends the first)."""
        assoc = {choice.pt: _CODEC[choice.codec]}
        if choice.event_pt is not None:
            assoc[choice.event_pt] = RTP.PayloadType.EVENT
        return assoc

    def _apply(self, choice: AudioChoice) -> None:
        """Send as ``choice`` says: address, codec, packet time, hold (RFC 3264 8.4)."""
        for client in self.RTPClients[:1]:
            if not ipaddress.ip_address(choice.address).is_unspecified:
                client.redirect(choice.address, choice.port)  # 0.0.0.0: hold, keep the address
            client.use_codec(choice.pt, {**client.assoc, **self._assoc(choice)})
            if choice.ptime != client.ptime:
                client.ptime = choice.ptime
                if self.phone.rtp_engine is not None:
                    self.phone.rtp_engine.retime(client)
            client.hold = choice.hold
        self._choice = choice
        self.telephone_event = choice.event_pt is not None

    def _local_sdp(self, direction: str) -> str:
        """Our SDP: the answer to the offer, or our offer when the INVITE had none. The origin
        version goes up only when the SDP changes (RFC 3264 8)."""
        client = self.RTPClients[0]
        address = self.sip.myIP

        def make(version: int) -> str:
            if self._choice is None or self._offer is None:
                return offer_sdp(self.phone.codecs, address, client.inPort, self.session_id,
                                 version)
            return answer_sdp(self._offer, self._choice, address, client.inPort,
                              self.session_id, version, direction)

        shape = make(0)
        if shape != self._sdp_shape:
            self._sdp_version += 1
            self._sdp_shape = shape
        return make(self._sdp_version)

    def _ok(self, request: SIPMessage, sdp: str) -> str:
        ms = {c.inPort: c.assoc for c in self.RTPClients}
        return _with_sdp(self.sip.gen_answer(request, self.session_id, ms, self.sendmode), sdp)

    def _rtp_digit(self, digit: str) -> None:
        self.listener.on_digit(digit, "rfc2833")

    def _audio(self, frame: bytes) -> None:
        self.listener.on_audio(frame)

    # The stock dtmf_callback appends to an unbounded StringIO; digits go to the listener.
    def dtmf_callback(self, code: str) -> None:
        self.listener.on_digit(code, "rfc2833")

    # --- signalling ------------------------------------------------------------------------

    def answer(self) -> None:
        """Raises InvalidStateError when the call was cancelled (defect 3: stock answered a
        cancelled call and sent a 200 OK after the CANCEL)."""
        with self.lock:
            if self.state != CallState.RINGING:
                raise InvalidStateError(f"call is {self.state.value}, not ringing")
            for client in self.RTPClients:
                client.start()
            direction = self._choice.answer_direction if self._choice else "sendrecv"
            self.awaiting_answer = self._choice is None
            # Answered before the 200 leaves: the caller's ACK and a quick re-INVITE can reach
            # the SIP thread before this one runs on (it then took the re-INVITE for a
            # retransmitted INVITE of a ringing call).
            self.state = CallState.ANSWERED
            self.answered_once = True
            # As stock answer(), but the 200 OK is re-sent until the caller's ACK.
            self.sip.send_2xx(self.call_id, self._ok(self.request, self._local_sdp(direction)))

    def take_answer(self, ack: SIPMessage) -> None:
        """The ACK to a 200 that carried our offer: its SDP is the answer (RFC 3261 13.2.1).
        Without a usable one the call cannot have audio and is ended with a BYE."""
        with self.lock:
            if not self.awaiting_answer or self.state != CallState.ANSWERED:
                return
            self.awaiting_answer = False
            try:
                error: SdpError | None = getattr(ack, "sdp_error", None)
                if error is not None:
                    raise error
                answer = getattr(ack, "sdp", None)
                if answer is None:
                    raise SdpError("the ACK carried no answer to our offer")
                choice = choose_audio(answer, self.phone.codecs)
            except SdpError as exc:
                reason = exc.reason
            else:
                self._offer = self._offer or answer
                self._apply(choice)
                return
        log.info("call %s ended: %s", self.call_id[:12], reason)
        self._end_answered("no usable SDP answer")

    def renegotiate(self, request: SIPMessage) -> None:
        """Defect 4: answer a re-INVITE with the running stream (stock gen_ms() started a new
        RTP thread pair for every re-INVITE) and follow the new offer: remote address, codec
        when the one in use is no longer offered, packet time and hold (RFC 3264 8.4). An
        unusable offer gets 488 and the session stays as it was (RFC 3261 14.2)."""
        with self.lock:
            if self.state != CallState.ANSWERED or not self.RTPClients:
                return
            client = self.RTPClients[0]
            try:
                error: SdpError | None = getattr(request, "sdp_error", None)
                if error is not None:
                    raise error
                sdp = getattr(request, "sdp", None)
                choice = None
                if sdp is not None:
                    current = str(client.preference)
                    order = [current, *(c for c in self.phone.codecs if c != current)]
                    choice = choose_audio(sdp, order)
            except SdpError as exc:
                self.phone.refuse_offer(request, exc)
                return
            if choice is None:  # no offer: ours goes in the 200, the answer in the ACK
                self._offer, self._choice = None, None
                self.awaiting_answer = request.method == "INVITE"
                direction = "sendrecv"
            else:
                self._offer = sdp
                self._apply(choice)
                direction = choice.answer_direction
            message = self._ok(request, self._local_sdp(direction))
            if request.method == "INVITE":
                self.sip.send_2xx(self.call_id, message)
            else:  # UPDATE: no ACK follows
                self.sip.out.sendto(message.encode("utf8"), (self.phone.server, self.phone.port))
            self.request = request

    def _media_failed(self, reason: str) -> None:
        """The engine dropped this call's stream after an error in it: the call ends (BYE) and
        the server hears a remote hang-up with the reason."""
        self._end_answered(reason)

    def _end_answered(self, reason: str) -> None:
        with self.lock:
            was = self.state
            self.state = CallState.ENDED
        if was == CallState.ANSWERED:
            with contextlib.suppress(OSError, KeyError):
                self._send_bye()
        if was != CallState.ENDED:
            self._finish(reason)

    def _send_bye(self) -> None:
        """Our BYE, as the side that answered (a call we placed sends its dialog's)."""
        self.sip.bye(self.request)

    # --- transfer (REFER) --------------------------------------------------------------------

    def refer(self, refer_to: str) -> bool:
        """Ask the gateway to connect the caller to ``refer_to`` (a SIP URI); the outcome
        reaches the listener's ``on_transfer`` once. False when the call is not answered
        (nothing sent, nothing reported)."""
        with self.lock:
            if self.state != CallState.ANSWERED:
                return False
            self.transfer = Transfer()
        self.sip.refer(self.request, refer_to, self._refer_answered)
        return True

    def _refer_answered(self, response: SIPMessage | None) -> None:
        self._transfer_step(lambda t: t.answered(None if response is None
                                                 else int(response.status)))

    def notified(self, request: SIPMessage) -> None:
        """A NOTIFY for this call's REFER (the phone has answered it 200)."""
        body = getattr(request, "raw_body", b"") or b""
        state = str(request.headers.get("Subscription-State", "")).strip().lower()
        self._transfer_step(lambda t: t.notified(body, state.startswith("terminated")))

    def transfer_timed_out(self) -> None:
        self._transfer_step(lambda t: t.timed_out())

    def transfer_cut(self) -> None:
        """The call ended while a transfer was under way (reported before the hang-up)."""
        self._transfer_step(lambda t: t.hung_up())

    def _transfer_step(self, step: Callable[[Transfer], tuple[str, str] | None]) -> None:
        with self.lock:
            transfer = self.transfer
            ended = step(transfer) if transfer is not None else None
        if ended is not None:
            self.listener.on_transfer(*ended)

    def no_ack(self) -> None:
        """The caller never confirmed our 200 OK: end the call with a BYE."""
        with self.lock:
            answered = self.state == CallState.ANSWERED
        if answered:
            self._end_answered("no ACK")

    def cancel(self) -> bool:
        """Called on CANCEL: True when the call was still ringing and is now ended."""
        with self.lock:
            if self.state != CallState.RINGING:
                return False
            self.state = CallState.ENDED
        self._finish("cancelled")
        return True

    def bye(self) -> None:
        with self.lock:
            was = self.state
            self.state = CallState.ENDED
        if was == CallState.RINGING:  # a BYE instead of a CANCEL: still end the INVITE
            with contextlib.suppress(OSError, KeyError):
                self.sip.send_response(self.request, 487, "Request Terminated")
        if was != CallState.ENDED:
            self._finish("remote")

    def hangup(self) -> None:
        with self.lock:
            was = self.state
            self.state = CallState.ENDED
        if was == CallState.ANSWERED:
            try:
                self._send_bye()
            except (OSError, KeyError) as exc:
                log.debug("BYE not sent: %s", exc)
        elif was == CallState.RINGING:
            try:
                self.sip.send_response(self.request, 480, "Temporarily Unavailable")
            except (OSError, KeyError) as exc:
                log.debug("480 not sent: %s", exc)
        if was != CallState.ENDED:
            self._finish("local")

    def reject(self) -> None:
        """Decline a ringing call as busy: 486 Busy Here, so the gateway gives the caller a
        busy tone and nobody pays for a call (an answered call is hung up instead)."""
        with self.lock:
            ringing = self.state == CallState.RINGING
            if ringing:
                self.state = CallState.ENDED
        if not ringing:
            self.hangup()
            return
        try:
            self.sip.send_response(self.request, 486, "Busy Here")
        except (OSError, KeyError) as exc:
            log.debug("486 not sent: %s", exc)
        self._finish("local")

    # Stock deny() sends its own busy response and deletes the call without returning its
    # port; ours declines through reject() (486, port released once).
    def deny(self) -> None:
        self.reject()

    def _finish(self, reason: str) -> None:
        self.end_reason = reason
        for client in self.RTPClients:
            client.stop()
        self.phone.forget_call(self)
        if reason != "local":
            self.listener.on_ended(reason)
        # Break the call's reference cycles (call <-> listener, call <-> its stream's
        # callbacks) so that it is freed at once rather than by a full garbage collection,
        # which holds the GIL for tens of ms (a stall of the RTP engine) when a flood of
        # callers is turned away.
        for client in self.RTPClients:
            client.dtmf = client.on_fault = client.inbound.listener = client.capture = None
        self.listener = CallListener()

    # Stock __del__ releases ports again when the object is collected (double release);
    # ours are released once, in _finish.
    def __del__(self) -> None:
        pass

    def play(self, audio: bytes, done: Callable[[bool], None] | None,
             encoded_as: str | None = None) -> None:
        """Play 8 kHz audio: 16-bit linear (encoded here to the call's codec), or G.711 already
        (``encoded_as`` "PCMU"/"PCMA"; sent as it is when that is the call's codec)."""
        for client in self.RTPClients[:1]:
            if encoded_as is None:
                audio = client.encode_linear(audio)
            elif encoded_as != str(client.preference):  # the codec changed meanwhile
                decode = audioop.alaw2lin if encoded_as == "PCMA" else audioop.ulaw2lin
                audio = client.encode_linear(decode(audio, 2))
            client.playout.play(audio, done)
        if not self.RTPClients and done is not None:
            done(True)

    def capture(self, sink: Callable[[bytes], object]) -> AudioCapture | None:
        """Hand the caller's audio, decoded to 16-bit and laid on the RTP timeline (gaps are
        silence), to ``sink`` from the RTP thread until ``end_capture``; None without audio."""
        for client in self.RTPClients[:1]:
            client.capture = AudioCapture(sink, time.monotonic())
            return client.capture
        return None

    def end_capture(self, capture: AudioCapture | None = None) -> None:
        """Stop handing audio on (only ``capture``'s, when given)."""
        for client in self.RTPClients:
            if capture is None or client.capture is capture:
                client.capture = None

    def stop_playback(self) -> bool:
        return any([c.playout.stop() for c in self.RTPClients])
