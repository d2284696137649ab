"""The SIP line: edge.lines.Line/Call over the hardened pyVoIP phone."""

from __future__ import annotations

import contextlib
import gc
import ipaddress
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from edge.lines import (
    BaseCall,
    CallerId,
    CallGone,
    DialResult,
    KeyPressed,
    LineContext,
    LineStatus,
    PlaybackFinished,
    Recorder,
    RecordingFinished,
    TransferFinished,
    Utterance,
    durable_mkdir,
)
from edge.logthrottle import LogThrottle
from edge.privacy import redact

from ._audio import G711Cache, PromptCache, PromptUnavailable
from ._callerid import caller_id
from ._compat import (
    DROP,
    IDENTITY_FILE,
    AudioCapture,
    CallListener,
    HardenedCall,
    HardenedPhone,
    NoPortsAvailableError,
    RegistrationIdentity,
    RobustSIPMessage,
)
from ._dtmf import InbandDetector
from ._outcomes import dial_outcome

GIL_SWITCH_S = 0.001

log = logging.getLogger(__name__)

_SILENCE_ON_ERROR = bytes(4800)  # 0.3 s of 16-bit silence: an unplayable prompt still "plays"


def advertised_address(settings: dict[str, Any]) -> str:
    """The address peers should send to: configured, else the bind address, else the local
    address of the route to the gateway (no packet is sent), else loopback."""
    if settings.get("advertised_address"):
        return str(settings["advertised_address"])
    bind = str(settings.get("bind_address") or "0.0.0.0")
    if bind != "0.0.0.0":
        return bind
    target = settings.get("gateway_address") or "192.0.2.1"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((target, 9))
            return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"


class SourcePolicy:
    """Who may call: the allow-list, else the gateway only, else anyone."""

    def __init__(self, allowed: Sequence[str], gateway: str) -> None:
        entries = list(allowed) or ([gateway] if gateway else [])
        self.networks = [ipaddress.ip_network(e, strict=False) for e in entries]

    def allows(self, address: str) -> bool:
        if not self.networks:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.networks)


class SipCall(BaseCall, CallListener):
    """One call; methods from the server's thread, events from pyVoIP's threads."""

    def __init__(self, line: SipLine, vcall: HardenedCall, caller: CallerId) -> None:
        BaseCall.__init__(self, line.name, caller)
        self._line = line
        self._vcall = vcall
        self._ended = False
        self._lock = threading.Lock()
        self._mode = str(line.settings["dtmf_mode"])
        self._inband = InbandDetector() if self._mode in ("auto", "inband") else None
        self._barge_in = bool(line.settings["barge_in"])
        self._recorder: Recorder | None = None
        self._capture: AudioCapture | None = None  # what feeds the recorder
        self._transfer_id: int | None = None
        self._transfer_timer: threading.Timer | None = None
        vcall.listener = self

    # --- Call ------------------------------------------------------------------------------

    @property
    def codec(self) -> str | None:
        clients = self._vcall.RTPClients
        return str(clients[0].preference) if clients else None

    def answer(self) -> None:
        try:
            self._vcall.answer()
        except Exception as exc:  # InvalidStateError: cancelled or ended
            raise CallGone(str(exc)) from exc

    def play(self, play_id: int, utterances: Sequence[Utterance]) -> None:
        # Encoded once per prompt and codec, shared by every call playing it.
        codec = self.codec or "PCMU"
        audio = b"".join(self._line.g711.encode(self._line.render(u), codec) for u in utterances)

        def done(interrupted: bool) -> None:
            self.post(PlaybackFinished(play_id, interrupted))

        # Under the lock so that a play racing the end of the call still reports once.
        with self._lock:
            if self._ended or not self._vcall.RTPClients:
                done(True)
                return
            self._vcall.play(audio, done, encoded_as=codec)

    def stop_playback(self) -> None:
        self._vcall.stop_playback()

    def transfer(self, transfer_id: int, number: str, timeout_s: float) -> None:
        """A blind transfer (REFER) to the gateway; see :meth:`edge.lines.Call.transfer`.
        The outcome comes from the gateway's NOTIFYs (``_compat/_refer.py``), or ``failed``
        after the ring time plus ``transfer_timeout_s``. Once connected the box hangs up
        (BYE: RFC 5589 6.1), if the gateway has not already."""
        target = self._line.transfer_target(number, self._vcall.call_id)
        if target is None:
            super().transfer(transfer_id, number, timeout_s)
            return
        with self._lock:
            self._transfer_id = transfer_id
            stale, self._transfer_timer = self._transfer_timer, None
        if stale is not None:  # a transfer never reported must not time out this one
            stale.cancel()
        if not self._vcall.refer(target):
            self.post(TransferFinished(transfer_id, "failed", "the call is not answered"))
            return
        log.info("call %s: transfer asked (REFER)", self._vcall.call_id[:12])
        timer = threading.Timer(timeout_s + self._line.settings["transfer_timeout_s"],
                                self._vcall.transfer_timed_out)
        timer.daemon = True
        timer.start()
        self._transfer_timer = timer

    def hang_up(self) -> None:
        with self._lock:
            self._ended = True
        self._vcall.stop_playback()
        self._vcall.hangup()

    def reject(self) -> None:
        """486 Busy Here while ringing (the caller hears busy and pays nothing)."""
        with self._lock:
            self._ended = True
        self._vcall.reject()

    # --- recording (BaseCall's hooks) -----------------------------------------------------

    def _start_recording(self, record_id: int, path: Path, max_s: float, silence_s: float,
                         finish_keys: str) -> None:
        """The caller's RTP, decoded to 16-bit (``_compat._capture``: gaps, comfort noise and
        key events are silence of their length) into a ``Recorder`` from the RTP thread. The
        recorder's file is finished (fsync, rename) on its own thread; its directory is made
        here, so the RTP thread never waits on a directory fsync. Finish keys come as
        KeyPressed, which BaseCall turns into a stop."""
        durable_mkdir(path.parent)
        recorder = Recorder(record_id, path, max_s, silence_s, self._recorded)
        with self._lock:
            self._recorder = recorder
            self._capture = self._vcall.capture(recorder.feed)
            heard = self._capture is not None
        if not heard:
            recorder.stop("failed")  # no audio stream: nothing can be heard

    def _stop_recording(self, reason: str, key: str) -> None:
        with self._lock:
            recorder = self._recorder
        if recorder is not None:
            recorder.stop(reason, key)

    def _recorded(self, event: RecordingFinished) -> None:
        """The recorder finished (its own thread): stop feeding it, then report."""
        with self._lock:
            if self._recorder is not None and self._recorder.record_id == event.record_id:
                self._vcall.end_capture(self._capture)
                self._recorder, self._capture = None, None
        self.post_recording(event)

    # --- CallListener (pyVoIP threads) -----------------------------------------------------

    def _takes(self, source: str) -> bool:
        """Whether keys from ``source`` count; in auto mode tones count only when no
        telephone-event was negotiated (known only after the ACK for a delayed offer)."""
        if self._mode == "auto":
            return source != "inband" or not self._vcall.telephone_event
        return source == self._mode

    def on_digit(self, digit: str, source: str) -> None:
        if not self._takes(source):
            return
        if self._barge_in:
            self._vcall.stop_playback()
        self.post(KeyPressed(digit))

    def on_audio(self, frame: bytes) -> None:
        if self._inband is not None and self._takes("inband"):
            for key in self._inband.feed(frame):
                self.on_digit(key, "inband")

    def on_ended(self, reason: str) -> None:
        with self._lock:
            self._ended = True
        self._vcall.stop_playback()
        self._vcall.transfer_cut()  # a transfer under way reports before the hang-up
        self.post_hangup(reason)

    def on_transfer(self, status: str, detail: str) -> None:
        with self._lock:
            transfer_id, self._transfer_id = self._transfer_id, None
            timer, self._transfer_timer = self._transfer_timer, None
        if timer is not None:
            timer.cancel()
        if transfer_id is None:
            return
        log.info("call %s: transfer %s (%s)", self._vcall.call_id[:12], status, detail)
        # Once completed the server ends the call (its BYE is the transferor's, RFC 5589).
        self.post(TransferFinished(transfer_id, status, detail))


class SipLine:
    """A SIP line; see docs/sip.md."""

    def __init__(self, settings: dict[str, Any], context: LineContext, name: str = "sip") -> None:
        self.settings = settings
        self.context = context
        self._name = name
        self.prompts = PromptCache(context.data_dir)
        self.g711 = G711Cache()
        self.policy = SourcePolicy(settings["allowed_sources"], settings["gateway_address"])
        self.phone: HardenedPhone | None = None
        self._on_call: Callable[[Any], None] | None = None
        self._warned: set[str] = set()
        self._accepting = True
        self.calls_offered = 0
        self.calls_placed = 0
        self._noise = LogThrottle(log)  # refused calls summarised, one line a minute
        # Calls placed at once (the dispatcher keeps to it): the gateway's channels for
        # calling out. 0: the line never dials.
        self.outbound_capacity = int(settings["max_outbound"])
        self.on_ring = str(settings["on_ring"])  # "callback": the server declines and calls back

    @property
    def name(self) -> str:
        return self._name

    def start(self, on_call: Callable[[Any], None]) -> None:
        s = self.settings
        # The RTP pacing loop must get the GIL within ~1 ms of each 20 ms tick; with the
        # default 5 ms switch interval a busy thread delays packets by up to 5 ms (the p99.9
        # tail at 100 calls).
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_S))
        # A full garbage collection holds the GIL while it walks every object: with the
        # program loaded (modules, config, survey) that stalled the RTP engine 25-90 ms
        # under a flood of INVITEs. What exists now lives as long as the process; frozen,
        # collections walk only what calls create.
        gc.freeze()
        self._on_call = on_call
        self._accepting = True
        if not self.policy.networks:
            log.warning("[sip] accepts calls from any address: set allowed_sources")
        # The password may live in the secrets file (sip_password) when the server passes it.
        secrets = self.context.extras.get("secrets") or {}
        password = s["password"] or str(secrets.get("sip_password", ""))
        self.phone = HardenedPhone(
            s["gateway_address"] or "127.0.0.1", s["gateway_port"], s["account"], password,
            myIP=s["bind_address"], callCallback=self._incoming, sipPort=s["port"],
            rtpPortLow=s["rtp_port_low"], rtpPortHigh=s["rtp_port_high"],
            advertise_ip=advertised_address(s), register=bool(s["account"]),
            expires=s["register_expires"], codecs=s["codecs"], screen=self._screen,
        )
        # The REGISTER Call-ID and CSeq survive restarts (RFC 3261 10.2): kept in the data dir.
        self.phone.sip.use_identity(
            RegistrationIdentity(Path(self.context.data_dir) / IDENTITY_FILE))
        self.phone.start()
        log.info("SIP line %s listening on %s:%s (%s)", self.name, s["bind_address"],
                 self.phone.sip.myPort, "registering" if s["account"] else "trunk mode")

    # --- Dialer ------------------------------------------------------------------------------

    def ready_to_dial(self) -> bool:
        """Whether an INVITE could go out now: started, a gateway to send it to, the audio
        engine running, and registered when the line registers."""
        phone = self.phone
        if phone is None or not phone.NSD or not self._accepting \
                or not self.settings["gateway_address"] or self.outbound_capacity < 1:
            return False
        if phone.rtp_engine is not None and not phone.rtp_engine.alive():
            return False
        return not self.settings["account"] or phone.registration_state() == "registered"

    def dial(self, number: str, ring_timeout_s: float) -> DialResult:
        """Place a call: an INVITE to the gateway (trunk mode) or through the registrar, and
        wait until it is answered or has failed; at most ``ring_timeout_s`` of ringing, then
        CANCEL: ``no-answer``. Outcomes: ``_outcomes``. From the dispatcher's thread."""
        phone = self.phone
        if phone is None or not phone.NSD or not self._accepting:
            return DialResult("failed", detail="the SIP line is not running")
        if not self.settings["gateway_address"]:
            return DialResult("failed", detail="no [sip] gateway_address to send calls to")
        from_user = self.settings["from_user"] or self.settings["account"] or "edgecall"
        try:
            placing = phone.place(number, from_user)
        except NoPortsAvailableError:
            return DialResult("failed", detail="no free RTP port")
        # The call's listener is set before the INVITE leaves: keys and a BYE that follow the
        # answer at once reach the server.
        call = SipCall(self, placing.call, CallerId(number))
        self.calls_placed += 1
        log.info("SIP line %s dialling %s (call %s)", self.name, redact(number),
                 placing.call.call_id[:12])
        placing.start()
        placed = placing.wait(ring_timeout_s)
        outcome, detail = dial_outcome(placed, ring_timeout_s)
        log.info("call %s: %s (%s)", placing.call.call_id[:12], outcome, detail)
        if outcome == "answered":
            return DialResult("answered", call, detail)
        return DialResult(outcome, detail=detail)

    @property
    def port(self) -> int:
        return self.phone.sip.myPort if self.phone else int(self.settings["port"])

    def stop(self) -> None:
        """Stop taking calls (new INVITEs get 503) and return at once. Calls already handed to
        the server stay up until it hangs them up; the phone closes when the last one ends."""
        self._accepting = False
        phone = self.phone
        if phone is None or not phone.NSD:
            return
        if not phone.calls:
            phone.stop()
            return
        log.info("SIP line %s stopping: %d calls stay up until they end", self.name,
                 len(phone.calls))
        threading.Thread(target=self._close_when_idle, name="sip-close", daemon=True).start()

    def _close_when_idle(self, limit_s: float = 3600.0) -> None:
        phone = self.phone
        deadline = time.monotonic() + limit_s  # a call nobody ends must not keep the line
        while phone is not None and phone.NSD and phone.calls and time.monotonic() < deadline:
            time.sleep(0.1)
        if phone is not None and phone.NSD:
            phone.stop()

    def shutdown(self) -> None:
        """Stop now: hang up every call (BYE) and close the sockets."""
        self._accepting = False
        if self.phone is not None and self.phone.NSD:
            self.phone.stop()

    def healthy(self) -> bool:
        """False while the RTP engine's thread is dead (every call would be silent): the
        server's watchdog check then fails. The engine is restarted within seconds; this also
        restarts it should its own timer not have."""
        engine = self.phone.rtp_engine if self.phone is not None and self.phone.NSD else None
        if engine is None or engine.alive():
            return True
        engine.ensure_running()
        return False

    def status(self) -> LineStatus:
        if self.phone is None or not self.phone.NSD:
            return LineStatus(self.name, "sip", "down", "not started")
        reg = self.phone.registration_state()
        stats = self.phone.sip.stats
        engine = self.phone.rtp_engine
        facts = {
            "registration": reg, "active_calls": len(self.phone.calls),
            "calls_offered": self.calls_offered, "calls_placed": self.calls_placed,
            "refused": stats["refused"],
            "malformed": stats["malformed"], "stray": stats["stray"],
            "media_faults": engine.faults if engine else 0,
            "media_restarts": engine.restarts if engine else 0,
        }
        if engine is not None and not engine.alive():
            return LineStatus(self.name, "sip", "down",
                              f"audio engine stopped ({engine.failure}); restarting", facts)
        if reg in ("disabled", "registered"):
            detail = "trunk mode, listening" if reg == "disabled" else "registered"
            return LineStatus(self.name, "sip", "ready", detail, facts)
        if reg in ("starting", "registering"):
            return LineStatus(self.name, "sip", "starting", "registering", facts)
        return LineStatus(self.name, "sip", "degraded",
                          "registration failing, retrying (calls in trunk mode still work)", facts)

    # --- internals -------------------------------------------------------------------------

    def _screen(self, message: Any, source: tuple[str, int]) -> tuple[int, str] | None:
        if self.policy.allows(source[0]):
            if not self._accepting and getattr(message, "method", "") == "INVITE" and (
                message.headers.get("Call-ID") not in (self.phone.calls if self.phone else {})
            ):
                return (503, "Service Unavailable")  # stopping: no new calls
            return None
        if getattr(message, "method", "") == "INVITE":
            number = None
            with contextlib.suppress(KeyError, AttributeError):
                number = message.headers["From"].get("number")
            self._noise.warning("refused", "refused a call from %s (not in allowed_sources), "
                                "caller %s", source[0], redact(number))
            return (403, "Forbidden")
        # OPTIONS gets 403 (the doctor and gateways read it); anything else from outside the
        # allow-list is dropped without a reply and never reaches a call.
        return (403, "Forbidden") if getattr(message, "method", "") == "OPTIONS" else DROP

    def _incoming(self, vcall: HardenedCall) -> None:
        headers = vcall.request.all_headers if isinstance(vcall.request, RobustSIPMessage) else []
        call = SipCall(self, vcall, caller_id(headers))
        self.calls_offered += 1
        log.info("call %s ringing (codec %s, caller %s)", vcall.call_id[:12], call.codec,
                 redact(call.caller.number))
        if self._on_call is not None:
            self._on_call(call)

    def transfer_target(self, number: str, call_id: str) -> str | None:
        """The Refer-To for ``number`` (``transfer_to``), None when this line does not
        transfer. {gateway}: the configured gateway, else where the call came from."""
        template = str(self.settings["transfer_to"])
        if not template or self.phone is None:
            return None
        gateway = str(self.settings["gateway_address"] or "")
        if gateway:
            port = int(self.settings["gateway_port"])
            gateway += "" if port == 5060 else f":{port}"
        else:
            peer = self.phone.sip.out.peer(call_id)
            if peer is None:
                return None
            gateway = peer[0] if peer[1] == 5060 else f"{peer[0]}:{peer[1]}"
        user = "".join(ch for ch in number if ch.isdigit() or ch in "+*#")
        return template.format(number=user.replace("#", "%23"), gateway=gateway)

    def render(self, utterance: Utterance) -> bytes:
        """Line-format audio for one prompt (converted once, cached)."""
        try:
            if utterance.audio_available():
                return self.prompts.wav(utterance.audio)  # type: ignore[arg-type]
            return self.prompts.speech(utterance.text, utterance.language)
        except (PromptUnavailable, OSError, EOFError) as exc:
            if utterance.key not in self._warned:
                self._warned.add(utterance.key)
                log.error("prompt %s cannot be played: %s", utterance.key, exc)
            return _SILENCE_ON_ERROR
