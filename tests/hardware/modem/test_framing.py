"""Framing: CR/LF runs, gaps, the prompt, split reads, noise."""

from __future__ import annotations

from hardware.modem._framing import Framer, Line, Prompt


def test_crcrlf_and_echo_frame_alike() -> None:
    framer = Framer()
    tokens = framer.feed(b"AT+CSQ\r\r\n+CSQ: 24,99\r\r\n\r\r\nOK\r\r\n")
    assert tokens == [Line("AT+CSQ", 2), Line("+CSQ: 24,99", 1), Line("OK", 2)]


def test_split_anywhere() -> None:
    data = b"\r\n+CLIP: \"+255712345678\",145\r\n\r\nOK\r\n"
    for cut in range(len(data)):
        framer = Framer()
        tokens = framer.feed(data[:cut]) + framer.feed(data[cut:])
        assert [t.text for t in tokens] == ['+CLIP: "+255712345678",145', "OK"]


def test_prompt_only_when_expected() -> None:
    framer = Framer()
    assert framer.feed(b"\r\n> ") == []
    assert [t.text for t in framer.feed(b"quoted\r\n")] == ["> quoted"]
    framer.prompt_expected = True
    assert framer.feed(b"\r\n> ") == [Prompt()]
    assert framer.prompt_expected is False


def test_non_utf8_never_raises() -> None:
    tokens = Framer().feed(bytes(range(256)) + b"\r\n")
    assert len(tokens) >= 1
