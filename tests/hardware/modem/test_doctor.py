"""``edgecall doctor`` checks for the modem, against the simulator."""

from __future__ import annotations

from pathlib import Path

import serial

from hardware.modem import SECTION, doctor_checks
from hardware.modem.simulator import ModemSimulator


class _Config:
    def __init__(self, **modem: object) -> None:
        values, problems = SECTION.parse(modem)
        assert problems == []
        self._modem = values

    def section(self, name: str) -> dict | None:
        return self._modem if name == "modem" else None


def _results(**modem: object) -> dict[str, object]:
    return {r.name: r for r in doctor_checks(_Config(**modem))}


def test_healthy_modem(tmp_path: Path) -> None:
    with ModemSimulator("ec25", link=tmp_path / "m") as sim:
        results = _results(port=sim.path, profile="ec25")
    assert [r.status for r in results.values()] == ["ok", "ok", "ok", "ok", "ok"]
    assert results["modem"].facts["imei"] == "867000000000001"
    assert results["modem signal"].message.startswith("-73 dBm")
    assert "lists 4" in results["modem transfer"].message


def test_a_module_without_call_transfer(tmp_path: Path) -> None:
    with ModemSimulator("sim800", link=tmp_path / "m", variants={"no_ect"}) as sim:
        results = _results(port=sim.path, profile="sim800")
        assert results["modem transfer"].status == "warn"
        assert "transfers = false" in results["modem transfer"].fix
        quiet = _results(port=sim.path, profile="sim800", transfers=False)
    assert "modem transfer" not in quiet


def test_missing_sim_and_weak_signal(tmp_path: Path) -> None:
    with ModemSimulator("sim800", link=tmp_path / "m") as sim:
        sim.set_sim("missing", reboot=False)
        sim.model.sim_unlocked = False
        results = _results(port=sim.path, profile="sim800")
        assert results["modem"].status == "fail"
        assert "insert a SIM" in results["modem"].message
        sim.set_sim("ready", reboot=False)
        sim.model.sim_unlocked = True
        sim.set_signal(4)
        results = _results(port=sim.path, profile="sim800")
    assert results["modem signal"].status == "warn"
    assert "-105 dBm" in results["modem signal"].message


def test_port_missing_busy(tmp_path: Path) -> None:
    results = _results(port=str(tmp_path / "nothing"))
    assert results["modem port"].status == "fail"
    assert "does not exist" in results["modem port"].message
    with ModemSimulator("sim800") as sim, \
            serial.Serial(sim.path, exclusive=True):
        results = _results(port=sim.path)
    assert results["modem port"].status == "warn"
    assert "in use" in results["modem port"].message


def test_disabled_section_checks_nothing() -> None:
    assert _results(port="/dev/ttyUSB2", enabled=False) == {}
