"""The simulator's field variants, seen raw on the wire through pyserial: each does what its
catalogue entry says, and nothing changes unless a test asks for it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import serial

from hardware.modem.simulator import VARIANTS, ModemSimulator, Variants


def _talk(port: serial.SerialBase, command: bytes | None, quiet: float = 0.25) -> bytes:
    if command is not None:
        port.write(command + b"\r")
    port.timeout = quiet
    reply = bytearray()
    while chunk := port.read(port.in_waiting or 1):
        reply += chunk
    return bytes(reply)


def _open(sim: ModemSimulator) -> serial.Serial:
    port = serial.Serial(sim.path, timeout=0.5)
    _talk(port, b"ATE0")
    return port


def test_parse_names_numbers_and_typos() -> None:
    chosen = Variants.parse({"late_clcc=6", "no_clip"})
    assert "no_clip" in chosen and chosen.number("late_clcc") == 6.0
    assert Variants.parse({"wrong_clock": None}).number("wrong_clock") == 3.0
    with pytest.raises(ValueError, match="unknown simulator variant"):
        Variants.parse({"late_clc"})
    with pytest.raises(ValueError, match="takes no number"):
        Variants.parse({"no_clip=2"})
    assert all(v.does and v.source for v in VARIANTS.values())


def test_late_clcc_no_clcc_ringing_and_no_clip(tmp_path: Path) -> None:
    with ModemSimulator("sim800", variants={"late_clcc=0.6", "no_clip"}) as sim, \
            _open(sim) as port:
        _talk(port, b"AT+CLIP=1")
        sim.incoming_call("+255700000001")
        reply = _talk(port, None)
        assert b"RING" in reply and b"+CLIP" not in reply
        assert _talk(port, b"AT+CLCC") == b"\r\nOK\r\n"  # not listed yet
        time.sleep(0.6)
        assert b'+CLCC: 1,1,4,0,0,"+255700000001"' in _talk(port, b"AT+CLCC")
    with ModemSimulator("sim800", variants={"no_clcc_ringing"}) as sim, _open(sim) as port:
        sim.incoming_call("+255700000001")
        assert _talk(port, b"AT+CLCC").endswith(b"\r\nOK\r\n")
        assert b"+CLCC" not in _talk(port, b"AT+CLCC")
        _talk(port, b"ATA")
        assert b'+CLCC: 1,1,0,0,0,"+255700000001"' in _talk(port, b"AT+CLCC")  # answered: listed


def test_tts_done_reports_lost_or_missing(tmp_path: Path) -> None:
    with ModemSimulator("sim800", variants={"lost_tts_done=2", "no_tts_done_ucs2"},
                        tts_char_s=0.01) as sim, _open(sim) as port:
        assert _talk(port, b'AT+CTTS=2,"one"') == b"\r\nOK\r\n\r\n+CTTS: 0\r\n"
        assert _talk(port, b'AT+CTTS=2,"two"') == b"\r\nOK\r\n"  # the 2nd done: lost
        assert _talk(port, b'AT+CTTS=2,"six"') == b"\r\nOK\r\n\r\n+CTTS: 0\r\n"
        assert _talk(port, b'AT+CTTS=1,"04400443"') == b"\r\nOK\r\n"  # UCS2: never a done
        assert [text for text, _ in sim.model.tts_ends] == ["one", "two", "six", "ру"]
        assert _talk(port, b"AT+CTTS=0") == b"\r\nOK\r\n"
        assert sim.model.idle_stops == 1


@pytest.mark.parametrize("profile", ["sim800", "ec25"])
def test_frozen_and_wrong_clock(profile: str) -> None:
    query = b"AT+CCLK?" if profile == "sim800" else b"AT+QLTS=1"
    given = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with ModemSimulator(profile, variants={"frozen_clock"}) as sim, _open(sim) as port:
        sim.network_time(given)
        _talk(port, None)  # a SIM800 pushes *PSUTTZ/+CTZV at once
        first = _talk(port, query)
        time.sleep(1.1)
        assert _talk(port, query) == first  # it never moves
        assert b"26/03/01" in first or b"2026/03/01" in first
    with ModemSimulator(profile, variants={"wrong_clock": 2}) as sim, _open(sim) as port:
        sim.network_time(given)
        _talk(port, None)
        later = given + timedelta(days=2)
        assert later.strftime("%m/%d").encode() in _talk(port, query)


def test_dtmf_forms_and_ddet_error() -> None:
    with ModemSimulator("sim800", variants={"dtmf_forms", "ddet_error"}) as sim, \
            _open(sim) as port:
        assert _talk(port, b"AT+DDET=1") == b"\r\nERROR\r\n"
        sim.incoming_call("+255700000001")
        _talk(port, b"ATA")
        sim.press("1234567", gap_s=0.02)
        lines = [line for line in _talk(port, None, quiet=0.5).split(b"\r\n") if line]
        assert lines == [b"+DTMF:1", b"+DTMF: 2,160", b"+DTMF: 3", b"+RXDTMF: 4",
                         b"+RXDTMF:5", b"+QTONEDET: 54", b"+QTONEDET:55"]


def test_cmgr_empty_and_creg_short() -> None:
    with ModemSimulator("sim800", variants={"cmgr_empty", "creg_short"}) as sim, \
            _open(sim) as port:
        _talk(port, b"AT+CMGF=1")
        _talk(port, b"AT+CNMI=2,1,0,0,0")
        index = sim.sms_in("+255700000009", "hello")
        assert f'+CMTI: "ME",{index}'.encode() in _talk(port, None)
        assert _talk(port, f"AT+CMGR={index}".encode()) == b"\r\nOK\r\n"  # wrong storage
        _talk(port, b'AT+CPMS="ME"')
        assert b"hello" in _talk(port, f"AT+CMGR={index}".encode())
        _talk(port, b"AT+CREG=2")
        assert _talk(port, b"AT+CREG?") == b"\r\n+CREG: 1\r\n\r\nOK\r\n"


def test_no_variant_no_change() -> None:
    with ModemSimulator("sim800") as sim, _open(sim) as port:
        _talk(port, b"AT+CREG=2")
        assert _talk(port, b"AT+CREG?") == b'\r\n+CREG: 2,1,"1A2B","3C4D"\r\n\r\nOK\r\n'
        assert sim.snapshot()["variants"] == []
