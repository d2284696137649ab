"""RTP fixes over pyVoIP 1.6.8's RTPClient (reference defects 1, 4, 5, 6 and the DTMF notes).

Each override below names the defect it fixes. The stock packet manager keeps every packet of
the call in a dict and an ever-growing BytesIO; ours keep a bounded amount of audio.
"""

from __future__ import annotations

import audioop
import collections
import logging
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._pyvoip import RTP, PayloadType, RTPClient, RTPMessage, RTPParseError

if TYPE_CHECKING:
    from ._capture import AudioCapture
    from ._engine import RtpEngine

log = logging.getLogger(__name__)

FRAME = 160  # samples (bytes of G.711) per 20 ms packet at 8 kHz
ULAW_SILENCE, ALAW_SILENCE = 0xFF, 0xD5
KEYS = "0123456789*#ABCD"
_STATIC = {0: PayloadType.PCMU, 8: PayloadType.PCMA}  # stock accepts these un-negotiated too
COMFORT_NOISE = 13  # RFC 3389: silence to us (never offered, but some gateways send it)


class EventDeduper:
    """One digit per key press from RFC 4733 telephone-event packets (pure).

    Stock pyVoIP reports a digit for every packet with the marker bit, so a gateway that sends
    the start packet three times (RFC 4733 section 2.5.1.2 allows it) gives "111", and it ignores
    the end bit. Here a press starts when the event timestamp changes (a continuation segment of
    a held key excepted) or when a marker follows an ended event (a replayed event).
    """

    def __init__(self) -> None:
        self._ts: int | None = None
        self._event: int | None = None
        self._ended = False

    def feed(self, event: int, timestamp: int, marker: bool, end: bool) -> str | None:
        if event > 15:  # flash/tones (RFC 4733 codes 16+) are not keys
            return None
        if self._ts is None or timestamp != self._ts:
            new = marker or self._ended or event != self._event or self._ts is None
        else:
            new = marker and self._ended
        self._ts, self._event = timestamp, event
        self._ended = end
        return KEYS[event] if new else None


class InboundAudio:
    """Replaces RTPPacketManager for received audio (defect 6): hands each decoded frame to a
    listener and keeps at most ``max_bytes`` for ``read``; no per-packet history."""

    def __init__(self, max_bytes: int = 8000) -> None:
        self._buf: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._max = max_bytes
        self._lock = threading.Lock()
        self.listener: Callable[[bytes], None] | None = None
        self.rebuilding = False  # attribute some stock code paths read

    def write(self, offset: int, data: bytes) -> None:
        listener = self.listener
        if listener is not None:
            listener(data)
        with self._lock:
            self._buf.append(data)
            self._size += len(data)
            while self._size > self._max and self._buf:
                self._size -= len(self._buf.popleft())

    def read(self, length: int = FRAME) -> bytes:
        out = bytearray()
        with self._lock:
            while self._buf and len(out) < length:
                chunk = self._buf.popleft()
                take = length - len(out)
                out += chunk[:take]
                if len(chunk) > take:
                    self._buf.appendleft(chunk[take:])
                self._size -= min(len(chunk), take)
        return bytes(out) + b"\x80" * (length - len(out))

    def buffered(self) -> int:
        return self._size


class Playout:
    """Replaces RTPPacketManager for audio to send (defect 6: bounded; and the pacing source).

    Holds the payload as it goes on the wire (G.711, one byte a sample; ``silence`` pads).
    ``play(audio, done)`` replaces what plays; the transmitter pulls one frame per packet, so
    a ``stop`` takes effect on the next packet. ``write`` (pyVoIP's write_audio) appends to a
    queue capped at ``max_bytes`` (oldest audio dropped).
    """

    def __init__(self, max_bytes: int = 8000 * 30, silence: int = ULAW_SILENCE) -> None:
        self.silence = silence
        self._lock = threading.Lock()
        self._audio = memoryview(b"")
        self._pos = 0
        self._done: Callable[[bool], None] | None = None
        self._queue = bytearray()
        self._max = max_bytes
        self.rebuilding = False

    def play(self, audio: bytes, done: Callable[[bool], None] | None) -> None:
        with self._lock:
            old = self._done
            self._audio, self._pos, self._done = memoryview(audio), 0, done
        if old is not None:
            old(True)

    def stop(self) -> bool:
        with self._lock:
            old = self._done
            self._audio, self._pos, self._done = memoryview(b""), 0, None
        if old is not None:
            old(True)
            return True
        return False

    def playing(self) -> bool:
        return self._done is not None

    def write(self, offset: int, data: bytes) -> None:
        with self._lock:
            self._queue += data
            if len(self._queue) > self._max:
                del self._queue[: len(self._queue) - self._max]

    def buffered(self) -> int:
        return len(self._queue) + len(self._audio) - self._pos

    def read(self, length: int = FRAME) -> bytes:
        finished = None
        with self._lock:
            if self._pos < len(self._audio):
                frame = bytes(self._audio[self._pos : self._pos + length])
                self._pos += length
                if self._pos >= len(self._audio):
                    finished, self._done = self._done, None
                    self._audio, self._pos = memoryview(b""), 0
            elif self._queue:
                frame = bytes(self._queue[:length])
                del self._queue[:length]
            else:
                frame = b""
        if finished is not None:
            finished(False)
        return frame + bytes([self.silence]) * (length - len(frame))

    def recode(self, convert: Callable[[bytes], bytes], silence: int) -> None:
        """The codec changed mid-call: what is left to play, in the new encoding."""
        with self._lock:
            self._audio = memoryview(convert(bytes(self._audio[self._pos :])))
            self._pos = 0
            self._queue = bytearray(convert(bytes(self._queue)))
            self.silence = silence


class SourceLatch:
    """Whose RTP a stream takes: only packets from the host the SDP names, and of those only
    from the first source port heard (latched), so nobody else on the network can inject audio
    or keys. The port is latched rather than taken from the SDP because gateways behind a
    port-translating router, and some that send from another port than they receive on, are
    still heard. Until an address is known (a delayed offer before its ACK) nothing is taken.
    """

    def __init__(self, host: str | None) -> None:
        self.host = host if host not in (None, "", "0.0.0.0") else None
        self.port: int | None = None
        self.dropped = 0

    def accepts(self, source: tuple[str, int]) -> bool:
        if self.host is None or source[0] != self.host:
            self.dropped += 1
            return False
        if self.port is None:
            self.port = source[1]
        elif source[1] != self.port:
            self.dropped += 1
            return False
        return True


class HardenedRTPClient(RTPClient):
    """RTPClient with the fixes listed in the module docstring."""

    def __init__(
        self,
        assoc: dict[int, PayloadType],
        inIP: str,
        inPort: int,
        outIP: str,
        outPort: int,
        sendrecv: RTP.TransmitType,
        dtmf: Callable[[str], None] | None = None,
        engine: RtpEngine | None = None,
        *,
        sock: socket.socket | None = None,
        ptime: int = 20,
    ) -> None:
        super().__init__(assoc, inIP, inPort, outIP, outPort, sendrecv, dtmf=dtmf)
        self.engine = engine
        self._pt_byte = bytes([int(self.preference)])
        self.hold = False
        self.ptime = ptime  # ms of audio per packet we send (a=ptime)
        self.pmout = Playout(silence=self._silence())  # defect 6: bounded, no per-packet log
        self.pmin = InboundAudio()  # defect 6
        self._events = EventDeduper()
        self._started = False
        self._stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.packets_sent = 0
        # Bound while the call rings (the SDP we answer with names a port we hold); the phone
        # picks the next free port when one is taken.
        self._sock = sock
        self.latch = SourceLatch(outIP)
        self._rx = bytearray(4096)  # RTP of G.711 up to 60 ms is 492 bytes
        self._rx_view = memoryview(self._rx)
        self.on_fault: Callable[[str], None] | None = None  # the engine ends a failed stream
        # The port goes back to the pool only once its socket is closed (on the engine's
        # thread, after the stream left it): a port handed out earlier could not be bound.
        self.on_closed: Callable[[], None] | None = None
        # A recording in progress: the caller's audio decoded to 16-bit, on the RTP timeline.
        self.capture: AudioCapture | None = None

    @property
    def frame(self) -> int:
        """Bytes (samples) of audio per packet we send."""
        return 8 * self.ptime

    @property
    def playout(self) -> Playout:
        return self.pmout  # type: ignore[return-value]

    @property
    def inbound(self) -> InboundAudio:
        return self.pmin  # type: ignore[return-value]

    # Defect 4: a re-INVITE made pyVoIP call start() again, adding a second thread pair (and
    # doubling the packet rate). Starting is idempotent here.
    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.sin = self._sock or self.bind()
        self.sout = self.sin
        self.sin.setblocking(False)
        if self.engine is not None:
            self.engine.add(self)
            return
        for target, name in ((self.recv, "rtp-recv"), (self.trans, "rtp-send")):
            t = threading.Thread(target=target, name=f"{name}:{self.inPort}", daemon=True)
            t.start()
            self.threads.append(t)

    def bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.inIP, self.inPort))
        except OSError:
            sock.close()
            raise
        return sock

    # Defect 6 (stop quick): threads wait on an Event, so stop() returns at once and they end
    # within one tick.
    def stop(self) -> None:
        self.NSD = False
        self._stop.set()
        if self._started and self.engine is not None:
            self.engine.remove(self)  # closes the socket on the engine's thread
        else:
            self.close_socket()

    def discard_pending(self) -> None:
        """Drop what the socket received before the stream started (a placed call's early
        media)."""
        sock = self._sock
        if sock is None or self._started:
            return
        sock.setblocking(False)
        for _ in range(1000):  # a bounded drain: 20 s of 20 ms packets
            try:
                sock.recv_into(self._rx)
            except OSError:  # BlockingIOError: empty
                return

    def close_socket(self) -> None:
        sock = getattr(self, "sin", None) or self._sock
        if sock is not None:
            sock.close()
        callback, self.on_closed = self.on_closed, None
        if callback is not None:
            callback()

    def use_codec(self, pt: int, assoc: dict[int, PayloadType]) -> None:
        """Send payload type ``pt`` (its codec is ``assoc[pt]``); ``assoc`` is what we take."""
        self.assoc = dict(sorted(assoc.items(), key=lambda kv: kv[0] != pt))
        was, self.preference = self.preference, assoc[pt]
        self._pt_byte = bytes([pt])
        if was != self.preference:
            decode = audioop.alaw2lin if was == PayloadType.PCMA else audioop.ulaw2lin
            self.playout.recode(lambda g711: self.encode_linear(decode(g711, 2)), self._silence())

    def _silence(self) -> int:
        return ALAW_SILENCE if self.preference == PayloadType.PCMA else ULAW_SILENCE

    def encode_linear(self, pcm16: bytes) -> bytes:
        """16-bit linear audio -> this stream's G.711, the one quantisation step on the way."""
        if self.preference == PayloadType.PCMA:
            return audioop.lin2alaw(pcm16, 2)
        return audioop.lin2ulaw(pcm16, 2)

    # pyVoIP's write_audio() takes 8-bit unsigned audio; the playout holds G.711.
    def write(self, data: bytes) -> None:
        self.pmout.write(self.outOffset, self.encode_packet(data))
        self.outOffset += len(data)

    def redirect(self, ip: str, port: int) -> None:
        """Send to a new address (a re-INVITE or the answer in an ACK); the source we accept
        RTP from follows it."""
        if ip != self.outIP:
            self.latch = SourceLatch(ip)
        self.outIP, self.outPort = ip, port

    def recv(self) -> None:
        # select() instead of a 10 ms sleep-poll: no wake-ups while the line is quiet.
        while self.NSD:
            try:
                ready, _, _ = select.select([self.sin], [], [], 0.25)
                if not ready:
                    continue
                packet, source = self._receive()
            except (OSError, ValueError):
                if not self.NSD:
                    return
                continue
            if not self.latch.accepts(source):
                continue
            try:
                self.parse_packet(packet)
            except Exception as exc:  # a malformed packet must not end the call's receiver
                log.debug("RTP packet dropped on port %s: %s", self.inPort, exc)

    def _receive(self) -> tuple[bytes, tuple[str, int]]:
        # Into the stream's own buffer: recvfrom(8192) allocated 8 KB per packet (5,000 a
        # second at 100 calls) and shrank it, churn that fragments the heap.
        size, source = self.sin.recvfrom_into(self._rx)
        return bytes(self._rx_view[:size]), source

    def next_packet(self) -> bytes | None:
        """The next packet (``ptime`` of audio), advancing the stream; None on hold (the audio
        still advances, so a prompt ends on time, but nothing is sent). The playout holds G.711
        already: it goes out as it is (no 8-bit round trip)."""
        payload = self.pmout.read(self.frame)
        capture = self.capture
        if capture is not None:  # every packet time: a recording hears time pass
            capture.tick(time.monotonic())
        if self.hold:
            self.outTimestamp = (self.outTimestamp + len(payload)) & 0xFFFFFFFF
            return None
        seq = self.outSequence & 0xFFFF
        ts = self.outTimestamp & 0xFFFFFFFF
        self.outSequence = (self.outSequence + 1) & 0xFFFF
        self.outTimestamp = (self.outTimestamp + len(payload)) & 0xFFFFFFFF
        return (
            b"\x80" + self._pt_byte + seq.to_bytes(2, "big") + ts.to_bytes(4, "big")
            + (self.outSSRC & 0xFFFFFFFF).to_bytes(4, "big") + payload
        )

    def send_packet(self, packet: bytes) -> bool:
        """Send one packet from next_packet(); False once the client is stopped."""
        try:
            self.sout.sendto(packet, (self.outIP, self.outPort))
            self.packets_sent += 1
        except OSError:
            if not self.NSD:
                return False
        return True

    def send_frame(self) -> bool:
        """Send the next 20 ms packet; False once the client is stopped."""
        packet = self.next_packet()
        return self.NSD if packet is None else self.send_packet(packet)

    # Audio paced against one monotonic clock: deadlines are start + n * ptime, so lateness of
    # one packet is not carried into the next (stock sleeps 20 ms relative and drifts ~6 ms/s).
    def trans(self) -> None:
        deadline = time.monotonic()
        while self.NSD and self.send_frame():
            deadline += self.ptime / 1000
            delay = deadline - time.monotonic()
            if delay < -0.2:  # suspended or starved: resynchronise rather than burst
                deadline = time.monotonic()
            elif delay > 0 and self._stop.wait(delay):
                return

    def receive_ready(self) -> None:
        """Drain what the socket holds (called by the shared engine when it is readable)."""
        for _ in range(64):
            try:
                packet, source = self._receive()
            except (BlockingIOError, InterruptedError):
                return
            except (OSError, ValueError):
                return
            if not self.latch.accepts(source):
                continue
            try:
                self.parse_packet(packet)
            except Exception as exc:  # a malformed packet must not end the call's receiver
                log.debug("RTP packet dropped on port %s: %s", self.inPort, exc)

    # Not a defect fix but the receive path's cost: stock RTPMessage parses the 12-byte header
    # through strings of bits (~7 us of the ~12 us per packet); with 100 calls that is 5,000
    # packets a second competing with the pacing loop. Same checks, same dispatch.
    def parse_packet(self, packet: bytes) -> None:
        if len(packet) < 12 or packet[0] >> 6 != 2:
            raise RTPParseError("not an RTP version 2 packet")
        start = 12 + 4 * (packet[0] & 0x0F)  # CSRC list
        if packet[0] & 0x10 and len(packet) >= start + 4:  # header extension (RFC 3550 5.3.1)
            start += 4 + 4 * int.from_bytes(packet[start + 2 : start + 4], "big")
        end = len(packet)
        if packet[0] & 0x20 and end > start:  # padding: last byte counts it
            end -= packet[-1]
        codec = self.assoc.get(packet[1] & 0x7F) or _STATIC.get(packet[1] & 0x7F)
        payload = packet[start:end]
        if codec is PayloadType.PCMU:
            self.pmin.write(0, audioop.bias(audioop.ulaw2lin(payload, 1), 1, 128))
            if self.capture is not None:  # recorded 16-bit: G.711 decodes to 14 bits
                self._captured(packet, audioop.ulaw2lin(payload, 2))
        elif codec is PayloadType.PCMA:
            self.pmin.write(0, audioop.bias(audioop.alaw2lin(payload, 1), 1, 128))
            if self.capture is not None:
                self._captured(packet, audioop.alaw2lin(payload, 2))
        elif codec is PayloadType.EVENT:
            if len(payload) >= 4:
                self._on_event(payload, int.from_bytes(packet[4:8], "big"), packet[1] >= 0x80)
        elif packet[1] & 0x7F != COMFORT_NOISE:  # comfort noise: silence (a gap, if recorded)
            raise RTPParseError(f"payload type {packet[1] & 0x7F} not negotiated")

    def _captured(self, packet: bytes, pcm16: bytes) -> None:
        capture = self.capture
        if capture is not None:
            capture.audio(int.from_bytes(packet[4:8], "big"), pcm16, time.monotonic())

    # Defect 1: stock encode_packet uses encode_pcmu for PCMA, sending mu-law labelled PT 8.
    def encode_packet(self, payload: bytes) -> bytes:
        if self.preference == PayloadType.PCMA:
            return self.encode_pcma(payload)
        return super().encode_packet(payload)

    # Defect 5 and de-duplication: see EventDeduper.
    def parse_telephone_event(self, packet: RTPMessage) -> None:
        if len(packet.payload) >= 4:
            self._on_event(packet.payload, packet.timestamp, bool(packet.marker))

    def _on_event(self, payload: bytes, timestamp: int, marker: bool) -> None:
        digit = self._events.feed(payload[0], timestamp, marker, bool(payload[1] & 0x80))
        if digit is not None and self.dtmf is not None:
            self.dtmf(digit)

    def parse_pcmu(self, packet: RTPMessage) -> None:
        self.pmin.write(packet.timestamp, audioop.bias(audioop.ulaw2lin(packet.payload, 1), 1, 128))

    def parse_pcma(self, packet: RTPMessage) -> None:
        self.pmin.write(packet.timestamp, audioop.bias(audioop.alaw2lin(packet.payload, 1), 1, 128))
