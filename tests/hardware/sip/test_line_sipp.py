"""The SIP line against SIPp callers on 127.0.0.1, driving the Call interface directly."""

from __future__ import annotations

import audioop
import logging
import math
import socket
import struct
import threading
import time
import wave
from pathlib import Path

from edge.lines import CallGone, KeyPressed, PlaybackFinished, RemoteHangup, Utterance
from hardware.sip._dtmf import tone


def test_rfc2833_digits_arrive_once_each(sipp, make_line, tools):
    line = make_line()
    proc = sipp.start("uac_rfc2833_digits.xml", line.port)
    call = line.next_call()
    assert call.caller.number == "+255712345678" and not call.caller.withheld
    result = tools.drive(call, keys_wanted=6)
    assert result["keys"] == "111#12"
    assert sipp.wait(proc) == 0, sipp.errors()


def test_info_digits(sipp, make_line, tools):
    line = make_line()
    proc = sipp.start("uac_info_digits.xml", line.port)
    result = tools.drive(line.next_call(), keys_wanted=6)
    assert result["keys"] == "111#12"
    assert sipp.wait(proc) == 0, sipp.errors()


def write_tone_wav(path: Path, keys: str) -> None:
    """A mu-law WAV of DTMF tones (90 ms each, 150 ms apart), as SIPp's rtp_stream sends it."""
    samples: list[float] = [0.0] * 1600
    for key in keys:
        samples += tone(key, 90) + [0.0] * 1200
    samples += [0.0] * 1600
    lin = b"".join(struct.pack("<h", round(32767 * max(-1.0, min(1.0, s)))) for s in samples)
    data = audioop.lin2ulaw(lin, 2)
    fmt = struct.pack("<HHIIHH", 7, 1, 8000, 8000, 1, 8)
    riff = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    riff += b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(riff)) + riff)


def test_inband_digits(sipp, make_line, tools):
    line = make_line()
    write_tone_wav(sipp.workdir / "dtmf_tones.wav", "111#12")
    proc = sipp.start("uac_inband_digits.xml", line.port)
    call = line.next_call()
    result = tools.drive(call, keys_wanted=6, limit_s=15)
    assert result["keys"] == "111#12"
    assert sipp.wait(proc) == 0, sipp.errors()


def test_cancel_before_answer(sipp, make_line, tools):
    line = make_line()
    proc = sipp.start("uac_cancel.xml", line.port)
    call = line.next_call()
    # The server picks up late, after the caller gave up: answer must refuse.
    deadline = time.monotonic() + 5
    event = None
    while time.monotonic() < deadline and not isinstance(event, RemoteHangup):
        event = call.next_event(0.5)
    assert isinstance(event, RemoteHangup) and event.reason == "cancelled"
    try:
        call.answer()
    except CallGone:
        pass
    else:
        raise AssertionError("answer() after CANCEL must raise CallGone")
    assert sipp.wait(proc) == 0, sipp.errors()  # 200 + 487 and no 200 OK for the INVITE
    assert line.line.phone.calls == {}


def test_reinvite_mid_call(sipp, make_line, tools):
    line = make_line()
    proc = sipp.start("uac_reinvite.xml", line.port)
    call = line.next_call()
    result = tools.drive(call, limit_s=10)
    assert isinstance(result["remote_hangup"], RemoteHangup)
    assert sipp.wait(proc) == 0, sipp.errors()


def test_options_ping(sipp, make_line):
    line = make_line()
    proc = sipp.start("uac_options.xml", line.port)
    assert sipp.wait(proc) == 0, sipp.errors()


def test_bye_from_caller(sipp, make_line, tools):
    line = make_line()
    proc = sipp.start("uac_caller_bye.xml", line.port)
    call = line.next_call()
    result = tools.drive(call, hang_up=False, limit_s=10)
    assert result["keys"] == "4"
    assert isinstance(result["remote_hangup"], RemoteHangup)
    assert isinstance(call.next_event(0.1), RemoteHangup)  # and keeps saying so
    call.play(9, [Utterance("late", "en", "")])  # a play after the end still reports once
    assert call.next_event(0.1) == PlaybackFinished(9, interrupted=True)
    assert isinstance(call.next_event(0.1), RemoteHangup)
    call.hang_up()  # idempotent after a remote hang-up
    assert sipp.wait(proc) == 0, sipp.errors()
    assert line.line.phone.assignedPorts == []  # the RTP port went back to the pool


def test_bye_from_box_ends_playback(sipp, make_line, tools):
    line = make_line()
    proc = sipp.start("uac_box_bye.xml", line.port)
    call = line.next_call()
    call.answer()
    call.play(7, [Utterance("long", "en", "", audio=None)])
    call.hang_up()
    call.hang_up()
    assert sipp.wait(proc) == 0, sipp.errors()


def write_prompt(path: Path, seconds: float = 1.5, rate: int = 16000) -> None:
    """A 16-bit stereo WAV (so the line converts rate, width and channels): a chirp."""
    n = int(rate * seconds)
    frames = bytearray()
    for i in range(n):
        t = i / rate
        v = round(12000 * math.sin(2 * math.pi * (300 + 400 * t) * t))
        frames += struct.pack("<hh", v, v)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def test_pcma_audio_received_decodes_to_the_prompt(sipp, make_line, tmp_path):
    from hardware.sip._audio import to_line_format

    prompt = tmp_path / "prompt.wav"
    write_prompt(prompt)
    expected = to_line_format(prompt.read_bytes())
    line = make_line(codecs=["PCMA", "PCMU"])
    proc = sipp.start("uac_pcma_echo.xml", line.port, extra=("-rtp_echo",))
    call = line.next_call()
    assert call.codec == "PCMA"
    heard: list[bytes] = []
    original = call.on_audio
    call.on_audio = lambda frame: (heard.append(frame), original(frame))
    call.answer()
    call.play(1, [Utterance("chirp", "en", "", audio=prompt)])
    event = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not isinstance(event, PlaybackFinished):
        event = call.next_event(0.5)
    assert event == PlaybackFinished(1, False)
    time.sleep(0.3)
    call.hang_up()
    assert sipp.wait(proc) == 0, sipp.errors()
    # The echo carries our audio back as A-law; find the prompt in it and compare.
    received = audioop.bias(b"".join(heard), 1, -128)
    rec16, want16 = audioop.lin2lin(received, 1, 2), expected[1600:17600]
    offset, factor = audioop.findfit(rec16, want16)
    segment = rec16[offset * 2 : offset * 2 + len(want16)]
    error = audioop.rms(audioop.add(segment, audioop.mul(want16, 2, -1), 2), 2)
    assert 0.9 < factor < 1.1
    assert error < 0.1 * audioop.rms(want16, 2), (error, audioop.rms(want16, 2))


def pcap_file(path: Path, packets: list[tuple[float, bytes]]) -> None:
    """A libpcap file of Ethernet/IPv4/UDP packets carrying the given RTP packets."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for t, payload in packets:
        udp = struct.pack(">HHHH", 10000, 20000, 8 + len(payload), 0) + payload
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1")) + udp
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        sec, usec = int(t), int((t % 1) * 1e6)
        out.append(struct.pack("<IIII", 1_700_000_000 + sec, usec, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))


def event_packets(code: int, ts: int, t0: float, seq0: int) -> list[tuple[float, bytes]]:
    packets = []
    for i in range(6):
        end = i >= 3
        payload = struct.pack(">BBH", code, (0x80 if end else 0) | 10, 160 * (i + 1))
        header = struct.pack(">BBHII", 0x80, (0x80 if i == 0 else 0) | 101, seq0 + i, ts, 99)
        packets.append((t0 + 0.02 * i, header + payload))
    return packets


def test_dtmf_event_16_is_ignored(sipp, make_line, tools):
    line = make_line()
    pcap_file(sipp.workdir / "event16_then_5.pcap",
              event_packets(16, 8000, 0.0, 1) + event_packets(5, 16000, 0.5, 10))
    proc = sipp.start("uac_event16.xml", line.port)
    result = tools.drive(line.next_call(), keys_wanted=1, limit_s=10)
    assert result["keys"] == "5"
    assert sipp.wait(proc) == 0, sipp.errors()


def test_allow_list_refuses_others(sipp, make_line, caplog):
    line = make_line(allowed_sources=["192.0.2.0/24"])
    with caplog.at_level(logging.WARNING, logger="hardware.sip"):
        proc = sipp.start("uac_forbidden.xml", line.port)
        assert sipp.wait(proc) == 0, sipp.errors()  # the INVITE got 403
    assert line.calls.empty()
    assert "refused a call from 127.0.0.1" in caplog.text
    assert "+255712345678" not in caplog.text and "78" in caplog.text
    assert line.line.status().facts["refused"] >= 1


def test_allow_list_admits_listed(sipp, make_line):
    line = make_line(allowed_sources=["127.0.0.0/8"])
    proc = sipp.start("uac_options.xml", line.port)
    assert sipp.wait(proc) == 0, sipp.errors()


def test_malformed_burst_then_still_answering(sipp, make_line, tools, caplog):
    import random

    caplog.set_level(logging.WARNING, logger="hardware.sip")
    line = make_line()
    valid = (
        "INVITE sip:s@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\n"
        "From: <sip:+1@127.0.0.1>;tag=a\r\nTo: <sip:s@127.0.0.1>\r\nCall-ID: m{n}\r\n"
        "CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 60\r\n\r\n"
        "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
    rng = random.Random(20261127)
    corpus: list[bytes] = [b"", b"\r\n\r\n", b"\x00" * 4, b"\xff" * 1400, b"SIP/2.0 999 X\r\n\r\n",
                           b"INVITE\r\n\r\n", b"INVITE sip:x SIP/3.0\r\n\r\n",
                           ("OPTIONS sip:x SIP/2.0\r\n" + "X: y\r\n" * 3000 + "\r\n").encode()]
    for n in range(400):
        data = bytearray(valid.format(n=n).encode())
        kind = n % 4
        if kind == 0:
            data = data[: rng.randrange(len(data))]
        elif kind == 1:
            for _ in range(rng.randrange(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 2:
            del data[rng.randrange(len(data)) :: rng.randrange(2, 9)]
        else:
            data = bytearray(rng.randbytes(rng.randrange(1, 1500)))
        corpus.append(bytes(data))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for datagram in corpus:
            s.sendto(datagram[:60000], ("127.0.0.1", line.port))
    proc = sipp.start("uac_rfc2833_digits.xml", line.port)
    call = line.next_call()
    while call.caller.number != "+255712345678":  # mutants still parsing as INVITEs ring too
        call.hang_up()
        call = line.next_call()
    result = tools.drive(call, keys_wanted=6)
    assert result["keys"] == "111#12"
    assert sipp.wait(proc) == 0, sipp.errors()
    assert line.line.status().facts["malformed"] > 100
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    while not line.calls.empty():
        line.calls.get_nowait().hang_up()
    assert line.line.phone.calls == {}


def test_twenty_concurrent_calls(sipp, make_line, tools):
    line = make_line()
    proc = sipp.start("uac_rfc2833_digits.xml", line.port, calls=20, rate=40, limit=20,
                      timeout_s=60)
    drivers = []
    for _ in range(20):
        drivers.append(tools.drive_in_thread(line.next_call(timeout=20), keys_wanted=6))
    time.sleep(0.5)
    # One thread paces and receives RTP for all calls (stock pyVoIP: 3 threads per call).
    rtp_threads = [t for t in threading.enumerate() if t.name.startswith("rtp-")]
    assert len(line.line.phone.calls) >= 10 and len(rtp_threads) == 1
    for thread, _ in drivers:
        thread.join(timeout=40)
    assert [out.get("keys") for _, out in drivers] == ["111#12"] * 20
    assert sipp.wait(proc, timeout=60) == 0, sipp.errors()
    assert line.line.phone.assignedPorts == []


def test_key_stops_prompt(sipp, make_line, tmp_path):
    prompt = tmp_path / "long.wav"
    write_prompt(prompt, seconds=6, rate=8000)
    line = make_line(barge_in=True)
    proc = sipp.start("uac_rfc2833_digits.xml", line.port)
    call = line.next_call()
    call.answer()
    call.play(3, [Utterance("long", "en", "", audio=prompt)])
    events = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        event = call.next_event(0.5)
        if event is not None:
            events.append(event)
        if any(isinstance(e, KeyPressed) for e in events):
            break
    assert events[0] == PlaybackFinished(3, interrupted=True)
    assert events[1] == KeyPressed("1")
    for _ in range(50):
        if sum(isinstance(e, KeyPressed) for e in events) == 6:
            break
        event = call.next_event(0.5)
        if event is not None:
            events.append(event)
    call.hang_up()
    assert sipp.wait(proc) == 0, sipp.errors()


def test_stop_keeps_calls_up_until_they_end(sipp, make_line, tools):
    line = make_line()
    proc = sipp.start("uac_box_bye.xml", line.port)
    call = line.next_call()
    call.answer()
    time.sleep(0.3)
    started = time.monotonic()
    line.line.stop()  # the server stops the line first, then gives calls a grace period
    assert time.monotonic() - started < 1.0
    late = sipp.start("uac_forbidden.xml", line.port, sets=None)  # a new call is refused
    assert sipp.wait(late) != 0  # (it expects 403 and gets 503)
    assert "503" in sipp.errors()
    call.play(2, [Utterance("bye", "en", "")])
    call.hang_up()  # the call was still up: its BYE goes out
    assert sipp.wait(proc) == 0, sipp.errors()
    deadline = time.monotonic() + 3
    while line.line.phone.NSD and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not line.line.phone.NSD  # the phone closed after the last call
    assert line.line.status().state == "down"


def test_registers_with_the_password_from_the_secrets(sipp, make_line, tools):
    registrar = tools.free_ports(1)
    proc = sipp.start("uas_registrar_auth.xml", None, port=registrar, timeout_s=10)
    time.sleep(0.3)
    line = make_line(account="box", gateway_address="127.0.0.1", gateway_port=registrar,
                     extras={"secrets": {"sip_password": "secret"}})
    assert sipp.wait(proc, timeout=12) == 0, sipp.errors()
    deadline = time.monotonic() + 3
    while line.line.status().detail != "registered" and time.monotonic() < deadline:
        time.sleep(0.05)
    status = line.line.status()
    assert (status.state, status.detail, status.facts["registration"]) == (
        "ready", "registered", "registered")
