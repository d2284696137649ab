"""The port thread: opening with backoff, execute() rules, probe then reopen."""

from __future__ import annotations

import threading
import time

import pytest
import serial

from hardware.modem._commands import Command
from hardware.modem._driver import Driver, open_port
from hardware.modem.simulator import ModemSimulator


def test_unopenable_port_is_retried_with_bounded_backoff() -> None:
    attempts: list[float] = []

    def opener(port: str, baud: int, timeout: float) -> serial.SerialBase:
        attempts.append(time.monotonic())
        raise serial.SerialException(f"could not open port {port}")

    links: list[tuple[bool, str]] = []
    driver = Driver("/dev/ttyUSB9", on_urc=lambda u: None,
                    on_link=lambda up, why: links.append((up, why)), opener=opener,
                    backoff=(0.05, 0.2))
    driver.start()
    time.sleep(2.0)
    driver.stop()
    # Bounded at 0.2 s, 7 attempts take ~1 s; doubling without a bound would need 3.2 s.
    assert len(attempts) >= 7
    assert driver.stats.state == "down" and "could not open" in driver.stats.detail
    assert links == []  # never up
    assert driver.execute("AT").final == "CANCELLED"  # a stopped driver answers at once


def test_execute_on_the_port_thread_is_refused() -> None:
    with ModemSimulator("sim800") as sim:
        errors: list[BaseException] = []
        done = threading.Event()
        driver: Driver

        def on_done(_response: object) -> None:
            try:
                driver.execute("AT")
            except RuntimeError as exc:
                errors.append(exc)
            done.set()

        driver = Driver(sim.path, on_urc=lambda u: None, on_link=lambda up, why: None)
        driver.start()
        driver.submit(Command("AT", on_done=on_done))
        assert done.wait(5)
        driver.stop()
    assert errors and "deadlock" in str(errors[0])


def test_timeout_probe_then_reopen() -> None:
    with ModemSimulator("ec25", boot_s=3.0) as sim:
        links: list[bool] = []
        driver = Driver(sim.path, on_urc=lambda u: None,
                        on_link=lambda up, why: links.append(up), probe_timeout=0.5)
        driver.start()
        assert driver.execute("AT").ok
        with sim._lock:
            sim.model.reboot(silent=True)  # deaf for 3 s
        assert driver.execute("AT+CSQ", expect=("+CSQ",), timeout=0.5).timed_out
        deadline = time.monotonic() + 5
        while driver.stats.reopen_after_timeout < 1 or len(links) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert links[:3] == [True, False, True]  # up, lost (probe timed out), up again
        time.sleep(3)
        assert driver.execute("AT").ok
        driver.stop()


def test_open_port_leaves_flow_control_alone() -> None:
    with ModemSimulator("sim800") as sim:
        port = open_port(sim.path, 115200, 0.1)
        try:
            assert not port.rtscts and not port.dsrdtr
        finally:
            port.close()
        with pytest.raises(serial.SerialException), open_port(sim.path, 115200, 0.1), \
                open_port(sim.path, 115200, 0.1):
            pass  # exclusive: a second opener is refused
