"""Voice answers on the SIP line (issue #13): a SIPp caller streams a known recording as its
speech (RTP, PCMU or PCMA) into a survey's ``record`` state; the stored file must be that
speech: normalised cross-correlation with the source, and durations within a frame or two.

Why these thresholds: the path is lossless. The caller sends the file's G.711 bytes as they
are, the box decodes them with the same G.711 table the test uses for the reference, so a
recording that kept every packet in its place matches the source sample for sample
(correlation 1.0, what the runs give). One 20 ms packet of the speech's 100 lost (silence in
its place) costs 0.13% of the correlation, two 0.37%: >= 0.99 tolerates a few losses on a
loaded machine. A packet put in the wrong place (the rest of the speech 20 ms late, against a
voice whose pitch glides) gives 0.47 when it happens mid-speech and 0.86 even in its last
tenth: it fails. Durations: the recorder keeps 0.2 s before the first word and 0.3 s after
the last, in 20 ms frames; the speech starts and ends on a frame (the caller's packets carry
160 samples from the file's start), so the file is 2.5 s and its voiced part 2.0 s, give or
take a frame of timing at either end (two frames allowed).
"""

from __future__ import annotations

import array
import audioop
import math
import random
import struct
import wave
from pathlib import Path
from typing import Any

import pytest

from edge.lines import recording_problem
from edge.lines._recording import PREROLL_S, SILENCE_RMS, TAIL_S
from edge.privacy import Pseudonymiser
from edge.server import run_call
from edge.store import Store
from edge.survey import Survey, compile_survey

RATE = 8000
FRAME = 160
LEAD_S, SPEECH_S = 0.5, 2.0
KEY = b"sip-test-pseudonym-key-0123456789"
VOICE = {
    "id": "voice", "version": "1", "languages": ["en"],
    "states": [
        {"name": "message", "type": "record", "max_length": 20, "timeout": 2, "min_length": 1,
         "finish_on_key": "#", "play_beep": False,
         "recordingComplete": "thanks", "noAudio": "bye", "hangup": None},
        {"name": "thanks", "type": "say", "prompt": {"en": "Saved."}, "next": "bye"},
        {"name": "bye", "type": "end", "prompt": {"en": "Goodbye."}},
    ],
}
PRESS_HASH = ('<pause milliseconds="3000"/><nop><action><exec '
              'play_pcap_audio="/usr/share/sip-tester/dtmf_2833_pound.pcap"/></action></nop>')


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = Store.open(tmp_path / "store")
    yield opened
    opened.close()


@pytest.fixture
def voice() -> Survey:
    survey, problems = compile_survey(VOICE, None)
    assert survey is not None and not [p for p in problems if p.severity == "error"], problems
    return survey


def speech(seconds: float, seed: int = 7) -> list[float]:
    """Voice-like sound: a glottal pulse train's harmonics under a gliding pitch (100-190 Hz),
    syllables at about 4 a second, a little breath noise; never periodic, so a correlation
    has one clear peak."""
    rng = random.Random(seed)
    out, phase = [], 0.0
    n = int(seconds * RATE)
    for i in range(n):
        t = i / RATE
        f0 = 145 + 45 * math.sin(2 * math.pi * 0.6 * t) + 10 * math.sin(2 * math.pi * 2.3 * t)
        phase += f0 / RATE
        voiced = sum(math.sin(2 * math.pi * k * phase) / k for k in range(1, 12))
        syllable = 0.65 + 0.35 * math.sin(2 * math.pi * 3.8 * t)
        edge = min(1.0, i / 80, (n - 1 - i) / 80)  # 10 ms ramps: no click at either end
        out.append(edge * (0.22 * syllable * voiced + 0.02 * rng.uniform(-1, 1)))
    return out


def g711(path: Path, samples: list[float], codec: str) -> bytes:
    """The samples as raw G.711, the file SIPp's rtp_stream sends as RTP payload (SIPp 3.6
    sent a WAV's 44-byte header as sound too); returns the bytes."""
    pcm = struct.pack(f"<{len(samples)}h", *(round(32767 * max(-1.0, min(1.0, s)))
                                              for s in samples))
    data = audioop.lin2ulaw(pcm, 2) if codec == "PCMU" else audioop.lin2alaw(pcm, 2)
    path.write_bytes(data)
    return data


def voiced_frames(pcm: bytes) -> list[int]:
    return [i for i in range(len(pcm) // (2 * FRAME))
            if audioop.rms(pcm[2 * FRAME * i: 2 * FRAME * (i + 1)], 2) >= SILENCE_RMS]


def correlation(a: bytes, b: bytes) -> float:
    x, y = array.array("h", a), array.array("h", b)
    dot = sum(p * q for p, q in zip(x, y, strict=True))
    return dot / math.sqrt(sum(p * p for p in x) * sum(q * q for q in y))


@pytest.mark.parametrize(("codec", "ending"), [("PCMU", "silence"), ("PCMA", "key")])
def test_recorded_answer_is_the_callers_speech(codec, ending, sipp, make_line, store, voice,
                                               shared_data_dir, tools):
    tail_s = 3.0 if ending == "silence" else 1.0
    samples = [0.0] * int(LEAD_S * RATE) + speech(SPEECH_S) + [0.0] * int(tail_s * RATE)
    data = g711(sipp.workdir / "speech.g711", samples, codec)
    decode = audioop.ulaw2lin if codec == "PCMU" else audioop.alaw2lin
    source = decode(data, 2)[2 * int(LEAD_S * RATE): 2 * int((LEAD_S + SPEECH_S) * RATE)]
    scenario = sipp.workdir / "uac_speech.xml"
    scenario.write_text((tools.SCENARIOS / "uac_speech.template.xml").read_text()
                        .replace("PAYLOAD", "0" if codec == "PCMU" else "8")
                        .replace("ENCODING", codec)
                        .replace("FINISH", PRESS_HASH if ending == "key" else ""))
    line = make_line(data_dir=shared_data_dir)
    proc = sipp.start(str(scenario), line.port, timeout_s=60)
    call = line.next_call()
    assert run_call(call, voice, store, Pseudonymiser(KEY)) == "complete"
    assert sipp.wait(proc) == 0, sipp.errors()

    (answer,) = store.query("SELECT value, raw FROM answers WHERE question = 'message'")
    assert answer["raw"] == ("#" if ending == "key" else "")
    (audio,) = store.reads.audio()
    path = store.recordings.path_of(audio["reference"])
    assert recording_problem(path) is None
    with wave.open(str(path)) as wav:
        recorded = wav.readframes(wav.getnframes())
    seconds = len(recorded) / (2 * RATE)
    frame_s = FRAME / RATE
    assert abs(seconds - (PREROLL_S + SPEECH_S + TAIL_S)) <= 2 * frame_s, seconds
    assert abs(audio["seconds"] - seconds) < 0.001
    voiced = voiced_frames(recorded)
    assert abs((voiced[-1] - voiced[0] + 1) * frame_s - SPEECH_S) <= 2 * frame_s
    offset, _factor = audioop.findfit(recorded, source)  # where the speech sits in the file
    assert abs(offset - PREROLL_S * RATE) <= 2 * FRAME, offset
    aligned = recorded[2 * offset: 2 * offset + len(source)]
    assert correlation(aligned, source) >= 0.99
