"""The caller's audio laid on the RTP timeline for a recording (``_compat._capture``), on an
injected clock: lost packets, late and repeated ones, DTX and comfort noise, key events instead
of audio, a restarted sender."""

from __future__ import annotations

from hardware.sip._compat._capture import HOLDOFF_S, AudioCapture

FRAME = 160


def voice(n: int) -> bytes:
    return bytes([n % 251 + 1, 1]) * FRAME  # one 20 ms packet, recognisable, never silence


class Sink:
    def __init__(self) -> None:
        self.data = b""

    def __call__(self, pcm: bytes) -> None:
        self.data += pcm

    @property
    def seconds(self) -> float:
        return len(self.data) / 16000

    def frames(self) -> list[int | None]:
        """Per 20 ms: the packet number heard, or None for silence."""
        out: list[int | None] = []
        for i in range(0, len(self.data), 2 * FRAME):
            chunk = self.data[i:i + 2 * FRAME]
            out.append(None if not any(chunk) else chunk[0] - 1)
        return out


def stream(capture: AudioCapture, packets: list[int], start_ts: int = 1000,
           start: float = 0.0) -> None:
    for n in packets:
        now = start + 0.02 * (n + 1)
        capture.tick(now)
        capture.audio(start_ts + FRAME * n, voice(n), now)


def test_a_steady_stream_is_written_as_it_came():
    sink = Sink()
    capture = AudioCapture(sink, 0.0)
    stream(capture, list(range(50)))
    assert sink.frames() == list(range(50)) and capture.filled == 0


def test_a_lost_packet_is_silence_of_its_length():
    sink = Sink()
    capture = AudioCapture(sink, 0.0)
    stream(capture, [0, 1, 2, 4, 5])
    assert sink.frames() == [0, 1, 2, None, 4, 5]


def test_late_and_repeated_packets_are_dropped():
    sink = Sink()
    capture = AudioCapture(sink, 0.0)
    stream(capture, [0, 1, 2, 2, 1, 3])
    assert sink.frames() == [0, 1, 2, 3] and capture.dropped == 2 * FRAME


def test_while_nothing_comes_time_passes_as_silence():
    """DTX or comfort noise (nothing for the recording), or keys sent as events instead of
    audio: silence is written behind the clock, and the audio after it lands in its place."""
    sink = Sink()
    capture = AudioCapture(sink, 0.0)
    stream(capture, [0, 1])
    for step in range(1, 151):  # 3 s without audio
        capture.tick(0.04 + 0.02 * step)
    assert abs(sink.seconds - (3.04 - HOLDOFF_S)) <= 0.02
    stream(capture, [152, 153])  # the sender's clock went on: timestamps 3 s later
    assert sink.frames()[:2] == [0, 1] and sink.frames()[-2:] == [152, 153]
    assert len(sink.frames()) == 154


def test_silence_before_the_first_packet_counts():
    sink = Sink()
    capture = AudioCapture(sink, 10.0)
    for step in range(1, 101):
        capture.tick(10.0 + 0.02 * step)
    assert abs(sink.seconds - (2.0 - HOLDOFF_S)) <= 0.02
    capture.audio(5555, voice(9), 12.0)
    assert sink.frames()[-1] == 9


def test_a_timestamp_jump_is_not_filled():
    """A restarted sender (a new SSRC, a random timestamp): the clock already wrote the time."""
    sink = Sink()
    capture = AudioCapture(sink, 0.0)
    stream(capture, [0, 1])
    capture.audio(3_000_000_000, voice(2), 0.06)
    assert sink.frames() == [0, 1, 2]


def test_timestamps_wrap_around():
    sink = Sink()
    capture = AudioCapture(sink, 0.0)
    stream(capture, [0, 1, 3], start_ts=2**32 - FRAME)
    assert sink.frames() == [0, 1, None, 3]


def test_a_timestamp_jump_backwards_is_a_new_timeline():
    sink = Sink()
    capture = AudioCapture(sink, 0.0)
    stream(capture, [0, 1], start_ts=900_000)
    capture.audio(12, voice(2), 0.06)
    capture.audio(12 + FRAME, voice(3), 0.08)
    assert sink.frames() == [0, 1, 2, 3]
