"""Framing: CR/LF runs, gaps, the prompt, split reads, noise."""

from __future__ import annotations

from hardware.modem._framing import Framer, Line, Prompt, Raw, RawTrigger


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


def test_raw_data_after_an_announcing_line_keeps_its_line_breaks() -> None:
    # Quectel AT+QFDWL: CONNECT, then the file (size known from AT+QFLST), then the report.
    data = b"\r\n\nOK\r\r\n"
    stream = b"\r\nCONNECT\r\n" + data + b"\r\n+QFDWL: 8,1a2b\r\n\r\nOK\r\n"
    for cut in range(len(stream)):
        framer = Framer()
        framer.raw_trigger = RawTrigger("CONNECT", size=len(data))
        tokens = framer.feed(stream[:cut]) + framer.feed(stream[cut:])
        raw = b"".join(t.data for t in tokens if isinstance(t, Raw))
        assert raw == data, cut
        assert [t.text for t in tokens if isinstance(t, Line)] == [
            "CONNECT", "+QFDWL: 8,1a2b", "OK"]


def test_raw_blocks_sized_by_their_line_and_right_after_a_break() -> None:
    # SIMCom AT+CFTRANTX: blocks announced with their length, more than one.
    framer = Framer()
    framer.raw_trigger = RawTrigger("+CFTRANTX: DATA", repeat=True)
    tokens = framer.feed(b"\r\n+CFTRANTX: DATA,3\r\n\r\nA+CFTRANTX: DATA,2\r\n\n\r"
                         b"\r\n+CFTRANTX: 0\r\n\r\nOK\r\n")
    assert b"".join(t.data for t in tokens if isinstance(t, Raw)) == b"\r\nA\n\r"
    assert [t.text for t in tokens if isinstance(t, Line)][-2:] == ["+CFTRANTX: 0", "OK"]
    # Firmware that ends lines with CR CR LF: the whole break goes, the data's own stays.
    framer = Framer()
    framer.raw_trigger = RawTrigger("+CFTRANTX: DATA", repeat=True)
    tokens = framer.feed(b"\r\r\n+CFTRANTX: DATA,2\r\r") + framer.feed(b"\n\r\n\r\r\nOK\r\r\n")
    assert [t for t in tokens if isinstance(t, Raw)] == [Raw(b"\r\n")]
    # SIM800 AT+FSREAD: the data right after the first CR LF, its size the one asked for.
    framer = Framer()
    framer.raw_trigger = RawTrigger("", size=4)
    tokens = framer.feed(b"\r") + framer.feed(b"\n\n#!A\r\nOK\r\n")
    assert tokens == [Raw(b"\n#!A"), Line("OK", 1)]
    framer.stop_raw()
    assert framer.feed(b"\r\nRING\r\n") == [Line("RING", 2)]
