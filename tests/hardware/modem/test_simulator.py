"""The simulator as a peer: its wire format seen raw through pyserial, the control socket
and CLI, socket:// over TCP, unplug/replug behind a stable symlink."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from hardware.modem.simulator import ModemSimulator, send_control


def _talk(port: serial.SerialBase, command: bytes | None, quiet: float = 0.25) -> bytes:
    """Write a command, then read until the modem has been quiet for ``quiet`` seconds."""
    if command is not None:
        port.write(command + b"\r")
    port.timeout = quiet
    reply = bytearray()
    while True:
        chunk = port.read(4096 if "socket" in str(port.port) else (port.in_waiting or 1))
        if not chunk:
            return bytes(reply)
        reply += chunk


def test_wire_format_echo_prompt_and_framing(tmp_path: Path) -> None:
    with ModemSimulator("sim7600", link=tmp_path / "m") as sim, \
            serial.Serial(sim.path, timeout=0.5) as port:
        assert _talk(port, b"AT") == b"AT\r\r\r\nOK\r\r\n"  # echo on after boot, \r\r\n
        assert _talk(port, b"ATE0") == b"ATE0\r\r\r\nOK\r\r\n"  # ATE0 itself is echoed
        assert _talk(port, b"AT+CMGF=1") == b"\r\r\nOK\r\r\n"
        assert _talk(port, b'AT+CMGS="+255700000001"').endswith(b"\r\r\n> ")
        port.write(b"hi\x1b")
        assert _talk(port, None) == b"\r\r\nOK\r\r\n"
        assert sim.snapshot()["sent_sms"] == []  # ESC aborted it


def test_faults_on_the_wire(tmp_path: Path) -> None:
    with ModemSimulator("sim800") as sim, serial.Serial(sim.path, timeout=0.5) as port:
        _talk(port, b"ATE0")
        sim.fault(cme_burst=[515, 14])
        assert b"+CME ERROR: 515" in _talk(port, b"AT+CSQ")
        assert b"+CME ERROR: 14" in _talk(port, b"AT+CSQ")
        sim.fault(drop_ok=1)
        assert _talk(port, b"AT+CSQ") == b"\r\n+CSQ: 20,99\r\n"
        sim.fault(sandwich=1)
        reply = _talk(port, b"AT+CSQ")
        assert reply.index(b"+CREG: 1") < reply.index(b"+CSQ") < reply.index(b"+CTZV")
        sim.noise()
        assert b"\xff" in _talk(port, None)
        # ATH leaves a voice call up until AT+CVHU=0, as on a real SIM800
        sim.incoming_call("+255700000001", clip=False)
        reply = _talk(port, None)
        assert b"RING" in reply and b"+CLIP" not in reply  # RING without +CLIP
        _talk(port, b"ATA")
        _talk(port, b"ATH")
        assert sim.snapshot()["call"] == "active"
        _talk(port, b"AT+CVHU=0")
        _talk(port, b"ATH")
        assert sim.snapshot()["call"] == "idle"


def test_unplug_and_replug_behind_the_symlink(tmp_path: Path) -> None:
    link = tmp_path / "modem"
    with ModemSimulator("ec25", link=link) as sim:
        first = link.resolve()
        port = serial.Serial(str(link), timeout=0.3)
        sim.unplug(down_s=0.3)
        with pytest.raises(serial.SerialException):
            for _ in range(10):
                port.read(1)
        port.close()
        assert sim.plugged.wait(5)
        time.sleep(sim.model.boot_s + 0.2)
        with serial.Serial(str(link), timeout=0.5) as again:
            # A fresh boot: echo is back on.
            assert _talk(again, b"AT") == b"AT\r\r\nOK\r\n"
        assert link.resolve() != first or first.exists()


def test_control_socket_and_cli(tmp_path: Path) -> None:
    address = str(tmp_path / "control.sock")
    with ModemSimulator("sim800", control=address) as sim, \
            serial.Serial(sim.path, timeout=0.5) as port:
        _talk(port, b"ATE0")
        _talk(port, b"AT+CLIP=1")
        assert send_control(address, "call +255712345678") == "ok"
        assert b'+CLIP: "+255712345678",145' in _talk(port, None)
        assert send_control(address, "status").startswith("ok profile=sim800 call=ringing")
        assert send_control(address, "bogus").startswith("error")
        result = subprocess.run(
            [sys.executable, "-m", "hardware.modem.simulator", "ctl", address, "hangup"],
            capture_output=True, text=True, timeout=30, cwd=Path(__file__).parents[3])
        assert result.stdout.strip() == "ok", result.stderr
        assert sim.snapshot()["call"] == "idle"


def test_dialled_phones_and_callers_who_ring_off_on_the_wire(tmp_path: Path) -> None:
    address = str(tmp_path / "control.sock")
    with ModemSimulator("sim800", control=address, ring_interval=0.5) as sim, \
            serial.Serial(sim.path, timeout=0.5) as port:
        _talk(port, b"ATE0")
        assert send_control(address, "phone +255700000002 busy") == "ok"
        assert send_control(address, "phone * no-answer rings=1") == "ok"
        assert _talk(port, b"ATD+255700000002;") == b"\r\nOK\r\n"  # AT+COLP=0: at once
        assert _talk(port, None, quiet=0.6) == b"\r\nBUSY\r\n"  # ATX4 (the default)
        assert _talk(port, b"ATD+255700000003;") == b"\r\nOK\r\n"
        time.sleep(0.15)  # past the call's set-up (0.3 s): it rings (0.5 s)
        assert b"+CLCC: 1,0,3,0,0" in _talk(port, b"AT+CLCC")  # alerting
        assert b"NO ANSWER" in _talk(port, None, quiet=0.8)
        _talk(port, b"AT+COLP=1")  # now ATD's result says how the call went
        assert _talk(port, b"ATD+255700000002;", quiet=0.6) == b"\r\nBUSY\r\n"
        _talk(port, b"ATX0")  # no busy detection: a busy callee reads NO CARRIER
        assert _talk(port, b"ATD+255700000002;", quiet=0.6) == b"\r\nNO CARRIER\r\n"
        _talk(port, b"AT+CLIP=1")
        assert send_control(address, "call +255712345678 rings=1") == "ok"
        reply = _talk(port, None, quiet=0.8)
        assert reply.index(b"RING") < reply.index(b"+CLIP") < reply.index(b"NO CARRIER")
        assert sim.snapshot()["dialled"] == ["+255700000002", "+255700000003",
                                             "+255700000002", "+255700000002"]


def test_tcp_socket_url(tmp_path: Path) -> None:
    with ModemSimulator("sim800", tcp_port=0) as sim:
        host, port_number = sim.tcp_address
        with serial.serial_for_url(f"socket://{host}:{port_number}", timeout=0.5) as port:
            port.write(b"AT+CSQ\r")
            assert port.read_until(b"OK\r\n") == b"AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n"


def test_line_over_socket_url(rig_factory, tmp_path: Path) -> None:
    sim = ModemSimulator("ec25", tcp_port=0).start()
    try:
        host, port_number = sim.tcp_address
        from hardware.modem import ModemLine, ModemSettings

        line = ModemLine(ModemSettings(port=f"socket://{host}:{port_number}", profile="ec25"))
        line.start(lambda call: None)
        try:
            deadline = time.monotonic() + 10
            while line.status().state != "ready":
                assert time.monotonic() < deadline, line.status()
                time.sleep(0.05)
        finally:
            line.stop()
    finally:
        sim.stop()
