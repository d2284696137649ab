"""RTP defects of pyVoIP 1.6.8: each test shows the defect on the stock class and its absence on
ours (no sockets: the packet parsers and encoders are fed directly)."""

from __future__ import annotations

import audioop
import math
import struct
import threading
import time

import pytest
from pyVoIP.RTP import PayloadType, RTPClient, TransmitType

from hardware.sip._compat import EventDeduper, HardenedRTPClient, InboundAudio, Playout

PCMA = {8: PayloadType.PCMA, 101: PayloadType.EVENT}
PCMU = {0: PayloadType.PCMU, 101: PayloadType.EVENT}


def make(cls, assoc, dtmf=None):
    return cls(assoc, "127.0.0.1", 0, "127.0.0.1", 9, TransmitType.SENDRECV, dtmf=dtmf)


def tone_u8(n=160, freq=440.0, amp=0.5):
    return bytes(128 + round(amp * 127 * math.sin(2 * math.pi * freq * i / 8000)) for i in range(n))


def rtp(pt, payload, seq=1, ts=1000, marker=False):
    return struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | pt, seq, ts, 1234) + payload


def event(code, end=False, duration=160):
    return struct.pack(">BBH", code, (0x80 if end else 0) | 10, duration)


def decoded_error(encoded, original):
    """RMS difference between the A-law-decoded payload and the 8-bit original."""
    back = audioop.bias(audioop.alaw2lin(encoded, 1), 1, 128)
    signed_a = audioop.bias(back, 1, -128)
    signed_b = audioop.bias(original, 1, -128)
    diff = audioop.add(signed_a, audioop.mul(signed_b, 1, -1), 1)
    return audioop.rms(diff, 1)


def test_pcma_payload_is_alaw():
    audio = tone_u8()
    stock = make(RTPClient, PCMA)
    ours = make(HardenedRTPClient, PCMA)
    assert stock.preference == ours.preference == PayloadType.PCMA
    # Defect: stock sends mu-law bytes labelled PT 8; decoded as A-law they are garbage.
    assert decoded_error(stock.encode_packet(audio), audio) > 20
    assert decoded_error(ours.encode_packet(audio), audio) <= 2


def test_pcmu_unchanged():
    audio = tone_u8()
    ours = make(HardenedRTPClient, PCMU)
    back = audioop.bias(audioop.ulaw2lin(ours.encode_packet(audio), 1), 1, 128)
    assert audioop.rms(audioop.add(audioop.bias(back, 1, -128),
                                   audioop.mul(audioop.bias(audio, 1, -128), 1, -1), 1), 1) <= 2


def test_g711_goes_out_as_given():
    """The playout holds the call's G.711: a packet carries it byte for byte (the stock path
    re-encoded 8-bit audio, the step that cost prompts most of their SNR)."""
    ours = make(HardenedRTPClient, PCMU)
    g711 = bytes(range(96, 256))
    ours.playout.play(g711, None)
    assert ours.next_packet()[12:] == g711
    pcma = make(HardenedRTPClient, PCMA)
    assert pcma.next_packet()[12:] == b"\xd5" * 160  # A-law silence, not 0x80


def test_event_above_15_is_ignored():
    digits = []
    stock = make(RTPClient, PCMU, digits.append)
    with pytest.raises(IndexError):  # defect: kills the stock receiver thread
        stock.parse_packet(rtp(101, event(16), marker=True))
    ours = make(HardenedRTPClient, PCMU, digits.append)
    ours.parse_packet(rtp(101, event(16), marker=True, ts=100))
    ours.parse_packet(rtp(101, event(16, end=True), ts=100, seq=2))
    ours.parse_packet(rtp(101, event(5), marker=True, ts=500, seq=3))
    assert digits == ["5"]


def press(client, code, ts, seq0, starts=3, middles=4, ends=3):
    """A gateway's key press: the start packet sent ``starts`` times with the marker bit (RFC
    4733 2.5.1.2 allows redundancy), continuation packets, then the end packet three times."""
    seq = seq0
    for _ in range(starts):
        client.parse_packet(rtp(101, event(code), seq=seq, ts=ts, marker=True))
    for i in range(middles):
        seq += 1
        client.parse_packet(rtp(101, event(code, duration=160 * (i + 2)), seq=seq, ts=ts))
    for _ in range(ends):
        client.parse_packet(rtp(101, event(code, end=True, duration=1280), seq=seq + 1, ts=ts))
    return seq + 2


def test_one_digit_per_key_press():
    stock_digits: list[str] = []
    press(make(RTPClient, PCMU, stock_digits.append), 1, 8000, 1)
    assert stock_digits == ["1", "1", "1"]  # defect: a redundant start gives "111"

    digits: list[str] = []
    ours = make(HardenedRTPClient, PCMU, digits.append)
    seq = press(ours, 1, 8000, 1)
    seq = press(ours, 1, 16000, seq)  # the same key pressed again: a new timestamp
    seq = press(ours, 11, 24000, seq, starts=1)
    assert digits == ["1", "1", "#"]


def test_event_deduper_replayed_and_held_keys():
    d = EventDeduper()
    # A recording replayed twice keeps its timestamp: the marker after an end is a new press.
    out = [d.feed(1, 13280, True, False), d.feed(1, 13280, False, True),
           d.feed(1, 13280, True, False), d.feed(1, 13280, False, True)]
    assert out == ["1", None, "1", None]
    # A key held past a segment boundary (new timestamp, no marker, not ended) is one press.
    d = EventDeduper()
    assert [d.feed(2, 100, True, False), d.feed(2, 65636, False, False)] == ["2", None]


def test_received_audio_is_bounded():
    n = 3000  # 60 s of 20 ms packets
    stock = make(RTPClient, PCMU)
    ours = make(HardenedRTPClient, PCMU)
    frames = []
    ours.inbound.listener = frames.append
    payload = audioop.lin2ulaw(b"\x00" * 160, 1)
    for i in range(n):
        packet = rtp(0, payload, seq=i, ts=160 * i)
        stock.parse_packet(packet)
        ours.parse_packet(packet)
    assert len(stock.pmin.log) == n  # defect: every packet kept for the life of the call
    assert isinstance(ours.pmin, InboundAudio) and ours.inbound.buffered() <= 8000
    assert len(frames) == n  # every frame still reaches the listener


def test_sent_audio_is_bounded():
    stock = make(RTPClient, PCMU)
    ours = make(HardenedRTPClient, PCMU)
    minute = b"\x80" * 8000 * 60
    for client in (stock, ours):
        for i in range(0, len(minute), 8000):
            client.write(minute[i : i + 8000])
    assert len(stock.pmout.buffer.getvalue()) == len(minute)  # defect: unbounded
    assert len(stock.pmout.log) == 60
    assert ours.playout.buffered() <= 8000 * 30


def test_playout_replaces_and_reports_once():
    p = Playout()
    done: list[tuple[str, bool]] = []
    p.play(b"\x01" * 400, lambda i: done.append(("a", i)))
    assert p.read(160) == b"\x01" * 160
    p.play(b"\x02" * 200, lambda i: done.append(("b", i)))  # replaces "a"
    assert done == [("a", True)]
    assert p.read(160) == b"\x02" * 160
    assert p.read(160) == b"\x02" * 40 + b"\xff" * 120  # padded with mu-law silence
    assert done == [("a", True), ("b", False)]
    assert p.read(160) == b"\xff" * 160
    assert p.stop() is False  # nothing playing: no second report
    assert done == [("a", True), ("b", False)]


def test_start_twice_keeps_one_thread_pair_and_stop_is_quick():
    ours = make(HardenedRTPClient, PCMU)
    ours.start()
    ours.start()  # what a re-INVITE did through gen_ms() on the stock class
    try:
        names = [t.name for t in threading.enumerate() if t.name.endswith(f":{ours.inPort}")]
        assert sorted(names) == [f"rtp-recv:{ours.inPort}", f"rtp-send:{ours.inPort}"]
    finally:
        started = time.monotonic()
        ours.stop()
        for t in ours.threads:
            t.join(timeout=2)
        assert all(not t.is_alive() for t in ours.threads)
        assert time.monotonic() - started < 1.5


def test_header_parse_skips_csrc_extension_and_padding():
    got = []
    ours = make(HardenedRTPClient, PCMU)
    ours.inbound.listener = got.append
    audio = tone_u8()
    csrc = struct.pack(">II", 7, 8)
    extension = struct.pack(">HH", 0xBEDE, 1) + b"\x01\x02\x03\x04"
    padding = b"\x00\x00\x03"
    header = struct.pack(">BBHII", 0x80 | 0x20 | 0x10 | 2, 0, 1, 1000, 1234)
    ours.parse_packet(header + csrc + extension + audioop.lin2ulaw(
        audioop.bias(audio, 1, -128), 1) + padding)
    assert len(got) == 1 and len(got[0]) == 160
    assert audioop.rms(audioop.bias(got[0], 1, -128), 1) > 30  # the tone, not the header bytes


@pytest.mark.parametrize("packet", [
    b"\x80\x00\x00",  # shorter than a header
    struct.pack(">BBHII", 0x40, 0, 1, 1000, 1234) + b"\xff" * 160,  # version 1
    rtp(97, b"\xff" * 160),  # payload type never negotiated
])
def test_malformed_packets_raise_for_the_caller_to_drop(packet):
    from pyVoIP.RTP import RTPParseError

    with pytest.raises(RTPParseError):
        make(HardenedRTPClient, PCMU).parse_packet(packet)


def test_header_parse_dispatches_like_stock():
    """Audio decodes to the same frames and events give the same digits as through stock's
    RTPMessage (which the fast path replaces)."""
    audio = tone_u8()
    packets = [rtp(0, audioop.lin2ulaw(audioop.bias(audio, 1, -128), 1)),
               rtp(8, audioop.lin2alaw(audioop.bias(audio, 1, -128), 1)),
               rtp(101, event(5), ts=2000, marker=True), rtp(101, event(5, end=True), ts=2000)]
    results = []
    for use_stock_message in (False, True):
        frames, digits = [], []
        ours = make(HardenedRTPClient, {**PCMU, 8: PayloadType.PCMA}, dtmf=digits.append)
        ours.inbound.listener = frames.append
        for packet in packets:
            if use_stock_message:
                RTPClient.parse_packet(ours, packet)  # stock header parse, our handlers
            else:
                ours.parse_packet(packet)
        results.append((frames, digits))
    assert results[0] == results[1]
    assert results[0][1] == ["5"] and len(results[0][0]) == 2
