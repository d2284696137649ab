"""Call fixes over pyVoIP 1.6.8's VoIPCall (reference defects 3, 4, 6)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._pyvoip import RTP, CallState, InvalidStateError, SIPMessage, VoIPCall
from ._rtp import HardenedRTPClient

if TYPE_CHECKING:
    from ._phone import HardenedPhone

log = logging.getLogger(__name__)


class CallListener:
    """What a call tells its owner (the line); every method is called from a pyVoIP thread."""

    def on_digit(self, digit: str, source: str) -> None: ...

    def on_audio(self, frame: bytes) -> None: ...

    def on_ended(self, reason: str) -> None: ...


class HardenedCall(VoIPCall):
    """VoIPCall with a lock around state changes, explicit port release and a listener."""

    phone: HardenedPhone

    def __init__(self, phone: HardenedPhone, callstate: CallState, request: SIPMessage,
                 session_id: int, myIP: str, **kwargs: Any) -> None:
        self.lock = threading.RLock()
        self.listener: CallListener = CallListener()
        self.media_ok = False
        self.telephone_event = False
        self.end_reason: str | None = None
        self.answered_once = False
        try:
            super().__init__(phone, callstate, request, session_id, myIP, **kwargs)
        except Exception:
            if hasattr(self, "assignedPorts"):
                phone.release_ports(self)  # the port taken before the failure goes back
            raise

    # Defect 6: pyVoIP records an inbound call's RTP port only in the phone, never in
    # call.assignedPorts, so release_ports(call) returns nothing. We record it here.
    def create_rtp_clients(
        self, codecs: dict[int, RTP.PayloadType], ip: str, port: int, request: SIPMessage,
        baseport: int,
    ) -> None:
        self.assignedPorts[port] = codecs
        wanted = self.phone.codecs
        audio = {pt: c for pt, c in codecs.items() if c.description in wanted}
        # Our codec preference order decides which codec we send (pyVoIP takes the first).
        ordered = dict(sorted(audio.items(), key=lambda kv: wanted.index(kv[1].description)))
        events = {pt: c for pt, c in codecs.items() if c == RTP.PayloadType.EVENT}
        if not ordered:
            return
        self.telephone_event = bool(events)
        ordered.update(events)
        for ii in range(len(request.body["c"])):
            client = HardenedRTPClient(
                ordered, ip, port, request.body["c"][ii]["address"], baseport + ii,
                self.sendmode, dtmf=self._rtp_digit, engine=self.phone.rtp_engine,
            )
            client.inbound.listener = self._audio
            self.RTPClients.append(client)
        self.media_ok = True

    def _rtp_digit(self, digit: str) -> None:
        self.listener.on_digit(digit, "rfc2833")

    def _audio(self, frame: bytes) -> None:
        self.listener.on_audio(frame)

    # The stock dtmf_callback appends to an unbounded StringIO; digits go to the listener.
    def dtmf_callback(self, code: str) -> None:
        self.listener.on_digit(code, "rfc2833")

    def answer(self) -> None:
        """Raises InvalidStateError when the call was cancelled (defect 3: stock answered a
        cancelled call and sent a 200 OK after the CANCEL)."""
        with self.lock:
            if self.state != CallState.RINGING:
                raise InvalidStateError(f"call is {self.state.value}, not ringing")
            # As stock answer(), but the 200 OK is re-sent until the caller's ACK.
            ms = self.gen_ms()
            self.sip.send_2xx(
                self.call_id, self.sip.gen_answer(self.request, self.session_id, ms, self.sendmode)
            )
            self.state = CallState.ANSWERED
            self.answered_once = True

    def renegotiate(self, request: SIPMessage) -> None:
        """Defect 4: answer a re-INVITE with the running streams (stock gen_ms() started a new
        RTP thread pair for every re-INVITE) and follow the new offer: remote address, codec
        when the one in use is no longer offered, and hold (RFC 3264 section 8.4)."""
        with self.lock:
            if self.state != CallState.ANSWERED:
                return
            audio = [m for m in request.body.get("m", []) if m["type"] == "audio"]
            conns = request.body.get("c", [])
            if audio:
                for client in self.RTPClients:
                    self._follow_codecs(client, audio[0])
            direction = str(request.body.get("a", {}).get("transmit_type", "sendrecv"))
            hold = direction in ("sendonly", "inactive") or any(
                c["address"] == "0.0.0.0" for c in conns)
            answer_mode = {"sendonly": "recvonly", "inactive": "inactive"}.get(
                direction, self.sendmode)
            ms = {c.inPort: c.assoc for c in self.RTPClients}
            message = self.sip.gen_answer(request, self.session_id, ms, answer_mode)
            if request.method == "INVITE":
                self.sip.send_2xx(self.call_id, message)
            else:  # UPDATE: no ACK follows
                self.sip.out.sendto(message.encode("utf8"), (self.phone.server, self.phone.port))
            for ii, client in enumerate(self.RTPClients):
                client.hold = hold
                if audio and conns and conns[min(ii, len(conns) - 1)]["address"] != "0.0.0.0":
                    client.outIP = conns[min(ii, len(conns) - 1)]["address"]
                    client.outPort = audio[0]["port"] + ii
            self.request = request

    def _follow_codecs(self, client: HardenedRTPClient, media: dict[str, Any]) -> None:
        offered: dict[int, RTP.PayloadType] = {}
        for fmt in media["methods"]:
            try:
                offered[int(fmt)] = RTP.PayloadType(int(fmt))
            except ValueError:
                name = media["attributes"].get(fmt, {}).get("rtpmap", {}).get("name", "")
                with contextlib.suppress(ValueError):
                    offered[int(fmt)] = RTP.PayloadType(name)
        wanted = self.phone.codecs
        audio = [(pt, c) for pt, c in offered.items() if c.description in wanted]
        if not audio or any(c == client.preference for _, c in audio):
            return  # the codec in use is still offered (or nothing usable: keep it)
        audio.sort(key=lambda kv: wanted.index(kv[1].description))
        pt, codec = audio[0]
        events = {p: c for p, c in offered.items() if c == RTP.PayloadType.EVENT}
        client.assoc = {**dict(audio), **events}
        client.preference = codec
        client._pt_byte = bytes([pt])

    def no_ack(self) -> None:
        """The caller never confirmed our 200 OK: end the call with a BYE."""
        with self.lock:
            was = self.state
            self.state = CallState.ENDED
        if was == CallState.ANSWERED:
            with contextlib.suppress(OSError, KeyError):
                self.sip.bye(self.request)
            self._finish("no ACK")

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
                self.sip.bye(self.request)
            except (OSError, KeyError) as exc:
                log.debug("BYE not sent: %s", exc)
        elif was == CallState.RINGING:
            try:
                self.sip.send_response(self.request, 480, "Temporarily Unavailable")
            except (OSError, KeyError) as exc:
                log.debug("480 not sent: %s", exc)
        if was != CallState.ENDED:
            self._finish("local")

    def deny(self) -> None:
        self.hangup()

    def _finish(self, reason: str) -> None:
        self.end_reason = reason
        for client in self.RTPClients:
            client.stop()
        self.phone.forget_call(self)
        if reason != "local":
            self.listener.on_ended(reason)

    # Stock __del__ releases ports again when the object is collected (double release);
    # ours are released once, in _finish.
    def __del__(self) -> None:
        pass

    def play(self, audio: bytes, done: Callable[[bool], None] | None) -> None:
        for client in self.RTPClients[:1]:
            client.playout.play(audio, done)
        if not self.RTPClients and done is not None:
            done(True)

    def stop_playback(self) -> bool:
        return any([c.playout.stop() for c in self.RTPClients])
