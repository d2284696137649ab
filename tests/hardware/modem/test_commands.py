"""The command core: transcripts from testdata/, timeouts from the write, the SMS prompt, and
a property test: digits are never lost, duplicated or reordered, whatever surrounds them."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.modem._commands import Command, CommandCore, Done, UrcEvent
from hardware.modem._parser import Dtmf, Ring

DATA = Path(__file__).parent / "testdata"


def _describe(event: object) -> str:
    if isinstance(event, UrcEvent):
        urc = event.urc
        name = type(urc).__name__
        return f"urc {name} {urc.digit}" if isinstance(urc, Dtmf) else f"urc {name}"
    assert isinstance(event, Done)
    text = f"done {event.response.final}"
    if event.response.lines:
        text += " " + "|".join(event.response.lines)
    return text


def test_transcripts() -> None:
    for case in json.loads((DATA / "transcripts.json").read_text()):
        core = CommandCore()
        for spec in case["commands"]:
            core.submit(Command(spec["text"], expect=tuple(spec.get("expect", ())),
                                body_lines=spec.get("body_lines", False),
                                finals=tuple(spec.get("finals", ()))))
        events = []
        now = 0.0
        data = case["input"].encode("latin-1")
        # One byte at a time: framing must not depend on how reads split the stream.
        for byte in data:
            core.take_output(now)
            events += core.receive(bytes([byte]), now)
        assert [_describe(e) for e in events] == case["events"], case["name"]


def test_timeout_counts_from_the_write_not_the_queue() -> None:
    core = CommandCore()
    first = Command("AT+CSQ", expect=("+CSQ",), timeout=2.0)
    second = Command("AT+CREG?", expect=("+CREG",), timeout=2.0)
    core.submit(first)
    core.submit(second)
    assert core.take_output(0.0) == b"AT+CSQ\r"
    assert core.tick(1.9) == []
    (done,) = core.tick(2.0)
    assert done.command is first and done.response.timed_out
    # The second command was queued at 0 but written at 5: it times out at 7, not 2.
    assert core.take_output(5.0) == b"AT+CREG?\r"
    assert core.tick(6.9) == []
    assert core.tick(7.0)[0].command is second


def test_late_ok_after_timeout_is_dropped() -> None:
    core = CommandCore()
    core.submit(Command("AT", timeout=1.0))
    core.take_output(0.0)
    core.tick(1.0)
    assert core.receive(b"\r\nOK\r\n", 1.5) == []


def test_sms_prompt_body_and_escape_on_timeout() -> None:
    core = CommandCore()
    core.submit(Command('AT+CMGS="+255700000001"', expect=("+CMGS",), body=b"OK fine",
                        timeout=5.0))
    assert core.take_output(0.0) == b'AT+CMGS="+255700000001"\r'
    assert core.receive(b'AT+CMGS="+255700000001"\r\r\n> ', 0.1) == []
    assert core.take_output(0.1) == b"OK fine\x1a"
    (done,) = core.receive(b"OK fine\x1a\r\n+CMGS: 23\r\n\r\nOK\r\n", 1.0)
    assert done.response.ok and done.response.lines == ["+CMGS: 23"]

    core.submit(Command('AT+CMGS="+255700000001"', expect=("+CMGS",), body=b"x", timeout=5.0))
    core.take_output(10.0)
    (done,) = core.tick(15.0)
    assert done.response.timed_out
    assert core.take_output(15.0) == b"\x1b"


def test_reset_cancels_everything() -> None:
    core = CommandCore()
    core.submit(Command("AT"))
    core.submit(Command("AT+CSQ"))
    core.take_output(0.0)
    finals = [e.response.final for e in core.reset() if isinstance(e, Done)]
    assert finals == ["CANCELLED", "CANCELLED"]
    assert not core.busy


_DIGIT_FORMS = [
    lambda d: f"+DTMF: {d}",
    lambda d: f"+DTMF:{d},160",
    lambda d: f"+QTONEDET: {ord(d)}",
    lambda d: f"+RXDTMF: {d}",
]
_NOISE = ["RING", '+CLIP: "+255712345678",145,"",0,"",0', "+CMTI: \"SM\",4", "+CTTS: 0",
          "+CREG: 1", "\xff\xfe", "Call Ready"]


@st.composite
def _scripts(draw: st.DrawFn) -> tuple[list[str], list[list[bytes]], list[str]]:
    digits = draw(st.lists(st.sampled_from("0123456789*#ABCD"), max_size=20))
    commands = draw(st.lists(st.sampled_from(["AT+CSQ", "AT+CLCC", "AT+CREG?"]), max_size=6))
    echo = draw(st.booleans())
    eol = draw(st.sampled_from([b"\r\n", b"\r\r\n"]))
    # The modem's byte stream, one segment per command (a modem answers only what was
    # written): echo, info and OK, with digit URCs and noise dropped in anywhere, including
    # between echo and info and between info and OK. The last segment holds leftover digits.
    segments: list[list[bytes]] = []
    pending = list(digits)
    for text in [*commands, None]:
        items: list[bytes] = []
        parts: list[bytes] = []
        if text is not None:
            parts = [text.encode() + b"\r"] if echo else []
            info = {"AT+CSQ": "+CSQ: 20,99", "AT+CLCC": '+CLCC: 1,1,0,0,0,"+255712345678",145',
                    "AT+CREG?": '+CREG: 2,1,"1A","2B"'}[text]
            parts += [eol + info.encode() + eol, eol + b"OK" + eol]
        for part in [*parts, b""]:
            while pending and (text is None or draw(st.booleans())):
                form = draw(st.sampled_from(_DIGIT_FORMS))
                items.append(eol + form(pending.pop(0)).encode("latin-1") + eol)
            if draw(st.booleans()):
                items.append(eol + draw(st.sampled_from(_NOISE)).encode("latin-1") + eol)
            items.append(part)
        stream = b"".join(items)
        cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=6)))
        segments.append(
            [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
        )
    return digits, segments, commands


@settings(max_examples=300, deadline=None)
@given(_scripts())
def test_digits_never_lost_duplicated_or_reordered(script: tuple) -> None:
    digits, segments, commands = script
    core = CommandCore()
    for text in commands:
        core.submit(Command(text, expect=(text[2:].rstrip("?"),), timeout=1.0))
    seen: list[str] = []
    done: list[Done] = []
    for segment in segments:
        core.take_output(0.0)
        for chunk in segment:
            for event in core.receive(chunk, 0.0):
                if isinstance(event, UrcEvent) and isinstance(event.urc, Dtmf):
                    seen.append(event.urc.digit)
                elif isinstance(event, Done):
                    done.append(event)
    assert seen == digits
    assert [d.command.text for d in done] == commands
    assert all(d.response.ok and len(d.response.lines) == 1 for d in done)


def test_file_data_after_connect_and_after_a_bare_prompt() -> None:
    # Quectel AT+QFUPL: the data goes after CONNECT, with nothing after it (its size is given).
    core = CommandCore()
    core.submit(Command('AT+QFUPL="a.wav",4,10', expect=("+QFUPL",), body=b"\r\nOK",
                        body_after="CONNECT", body_end=b""))
    assert core.take_output(0.0) == b'AT+QFUPL="a.wav",4,10\r'
    assert core.receive(b"\r\nCONNECT\r\n", 0.1) == []
    assert core.take_output(0.1) == b"\r\nOK"  # binary data that reads "OK" goes out as is
    (done,) = core.receive(b"\r\n+QFUPL: 4,1234\r\n\r\nOK\r\n", 0.2)
    assert done.response.ok and done.response.lines == ["+QFUPL: 4,1234"]
    # SIMCom AT+CFTRANRX / AT+FSWRITE: a ">" prompt, here ended by a line break.
    core.submit(Command('AT+CFTRANRX="C:/a.wav",2', body=b"\x00\x01", body_end=b""))
    core.take_output(1.0)
    core.receive(b"\r\n>\r\n", 1.1)
    assert core.take_output(1.1) == b"\x00\x01"
    (done,) = core.receive(b"\r\nOK\r\n", 1.2)
    assert done.response.ok


def test_interrupt_writes_ahead_of_the_queue() -> None:
    core = CommandCore()
    core.submit(Command("ATD+255700000001;", timeout=60.0, finals=("NO CARRIER",)))
    core.submit(Command("AT+CLCC", expect=("+CLCC",)))
    core.take_output(0.0)
    core.interrupt("ATH")  # a character aborts the dial waiting for its result
    assert core.take_output(1.0) == b"ATH\r"
    (done,) = core.receive(b"\r\nNO CARRIER\r\n", 1.1)
    assert done.response.final == "NO CARRIER"
    assert core.take_output(1.2) == b"AT+CLCC\r"


def test_timeouts_never_put_a_number_in_the_log() -> None:
    from hardware.modem._driver import command_name

    assert command_name("ATD+255700000001;") == "ATD"
    assert command_name('AT+CMGS="+255700000001"') == "AT+CMGS"


def test_file_read_back_raw_and_a_transfer_cut_short() -> None:
    from hardware.modem._framing import RawTrigger

    core = CommandCore()
    core.submit(Command('AT+QFDWL="r1.amr"', expect=("+QFDWL",), timeout=5.0,
                        raw=RawTrigger("CONNECT", size=6)))
    core.take_output(0.0)
    (done,) = core.receive(b"\r\nCONNECT\r\nOK\r\n\r\n\r\n+QFDWL: 6,0\r\n\r\nOK\r\n", 0.1)
    assert done.response.ok and done.response.data == b"OK\r\n\r\n"
    assert done.response.lines == ["+QFDWL: 6,0"]
    # Cut short: the data stops coming; the command times out with what came, and what
    # follows is read as lines again.
    core.submit(Command('AT+QFDWL="r2.amr"', expect=("+QFDWL",), timeout=5.0,
                        raw=RawTrigger("CONNECT", size=100)))
    core.take_output(1.0)
    assert core.receive(b"\r\nCONNECT\r\n#!AMR\n", 1.1) == []
    (done,) = core.tick(6.5)
    assert done.response.timed_out and done.response.data == b"#!AMR\n"
    assert [e.urc for e in core.receive(b"\r\nRING\r\n", 7.0)] == [Ring()]
