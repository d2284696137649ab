"""``edgecall doctor`` checks for the [modem] line: the port, then a short session with the
module (SIM, registration, signal, identity), each problem with what to do about it.

Entry point (to declare): ``edgecall.doctor``: ``modem = "hardware.modem:doctor_checks"``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import serial

from edge.lines import LineContext

from ._advice import dtmf_advice
from ._commands import MEDIUM_S
from ._line import ModemLine
from ._settings import ModemSettings
from ._transferring import supported_holds

PROBE_S = 20.0  # a SIM800 needs ~10 s after power-up before the SIM answers


def doctor_checks(config: Any) -> Iterator[Any]:
    # Imported here: the doctor's result type lives in edge.doctor, which is only loaded
    # when doctor runs; the line itself never depends on it.
    from edge.doctor import fail, ok, warn

    settings = config.section("modem")
    if not settings or not settings.get("enabled", True):
        return
    port = settings["port"]
    if "://" not in port:
        if not os.path.exists(port):
            candidates = sorted(p for p in os.listdir("/dev")
                                if p.startswith(("ttyUSB", "ttyACM", "serial", "ttyAMA", "ttyS0")))
            yield fail("modem port", f"{port} does not exist",
                       "plug the modem in and set [modem] port; present now: "
                       + (", ".join("/dev/" + c for c in candidates) or "no serial ports"
                          ) + " (an EC25 on USB answers AT on /dev/ttyUSB2)")
            return
        if not os.access(port, os.R_OK | os.W_OK):
            yield fail("modem port", f"no permission to open {port}",
                       "add the service user to the 'dialout' group and log in again")
            return
    try:
        probe = serial.serial_for_url(port, baudrate=settings.get("baud", 115200), timeout=0.1,
                                      exclusive=True) if "://" not in port else None
    except serial.SerialException as exc:
        if "lock" in str(exc).lower() or "busy" in str(exc).lower():
            yield warn("modem port", f"{port} is in use (the running server or ModemManager)",
                       "see 'edgecall status' for the running line; if the server is stopped, "
                       "stop ModemManager: systemctl disable --now ModemManager")
        else:
            yield fail("modem port", f"cannot open {port}: {exc}",
                       "check the cable and that the port is the module's AT port")
        return
    if probe is not None:
        probe.close()
    yield ok("modem port", f"{port} opens")
    yield from _session(ModemSettings.from_config(settings), ok, warn, fail,
                        data_dir=getattr(config, "data_dir", None))


def _session(settings: ModemSettings, ok: Any, warn: Any, fail: Any, *,
             data_dir: Path | None = None) -> Iterator[Any]:
    # The data dir holds what the box uploaded to this module (its recorded prompts).
    line = ModemLine(settings, LineContext(data_dir=data_dir or Path(".")))
    profile = line.profile
    line.start(lambda call: call.hang_up())
    holds: set[str] | None = None
    try:
        deadline = time.monotonic() + PROBE_S
        status = line.status()
        while status.state == "starting" or "registration" not in status.facts:
            if time.monotonic() > deadline or status.state == "down":
                break
            time.sleep(0.2)
            status = line.status()
        if settings.transfers and status.state in ("ready", "degraded"):
            listed = line.driver.execute("AT+CHLD=?", expect=("+CHLD",), timeout=MEDIUM_S)
            holds = supported_holds(listed.lines) if listed.ok else set()
    finally:
        line.stop()
    facts = {k: v for k, v in status.facts.items()
             if k in ("profile", "sim", "imei", "iccid", "signal_dbm", "signal", "registration",
                      "network_time", "command_timeouts", "dtmf_reporting")}
    recordings = {k: status.facts[k] for k in ("recordings_held", "recordings_tts")
                  if status.facts.get(k)}
    if status.state == "down" or status.state == "starting":
        yield fail("modem", status.detail or "the module did not finish initialising",
                   "check power (a SIM800 needs a 2 A supply), the profile, and the baud rate",
                   **facts)
        return
    if status.state == "degraded":
        yield warn("modem", status.detail, "see docs/modem.md, Troubleshooting", **facts)
    else:
        yield ok("modem", status.detail, **facts)
    rssi_dbm = facts.get("signal_dbm")
    if rssi_dbm is None:
        yield warn("modem signal", "no signal reading", "check the antenna", **facts)
    elif rssi_dbm < -101:
        yield warn("modem signal", f"weak signal ({rssi_dbm} dBm, {facts.get('signal')})",
                   "move the antenna or the box; calls may drop below -101 dBm", **facts)
    else:
        yield ok("modem signal", f"{rssi_dbm} dBm ({facts.get('signal')})", **facts)
    dtmf = facts.get("dtmf_reporting")
    if dtmf == "on":
        yield ok("modem dtmf", "the module accepted DTMF detection; 'edgecall doctor "
                 "--dtmf-test' proves keys arrive", **facts)
    else:
        yield warn("modem dtmf", "the module refused DTMF detection" if dtmf == "refused"
                   else "this module has no DTMF detection",
                   "keys may not arrive (run 'edgecall doctor --dtmf-test'): "
                   + dtmf_advice(profile, str(dtmf), "none"), **facts)
    if recordings:
        yield _prompts_check(recordings, ok, warn)
    if holds is not None:
        yield _transfer_check(holds, ok, warn)


def _transfer_check(holds: set[str], ok: Any, warn: Any) -> Any:
    """Whether a survey's connect state can hand callers over on this module (explicit call
    transfer, see _transferring). The network's part shows only on a real call."""
    if "4" in holds:
        return ok("modem transfer", "the module offers explicit call transfer (AT+CHLD=? "
                  "lists 4); whether the network allows it shows only on a call: try one "
                  "transfer at install (docs/modem.md)", holds=sorted(holds))
    return warn("modem transfer", "the module has no explicit call transfer (AT+CHLD=? lists "
                f"{sorted(holds) or 'nothing'}): a survey's connect state takes its failure "
                "path", "set [modem] transfers = false to say so, or hand callers over "
                "through a SIP gateway", holds=sorted(holds))


def _prompts_check(facts: dict[str, Any], ok: Any, warn: Any) -> Any:
    """Which recorded prompts the module holds (the box's manifest, checked against the
    module at start), and which are spoken with TTS instead, and why."""
    held: list[str] = list(facts.get("recordings_held", []))
    tts: dict[str, str] = dict(facts.get("recordings_tts", {}))
    facts = {"recordings_held": held, "recordings_tts": tts}
    holds = f"{len(held)} recorded prompt{'' if len(held) == 1 else 's'} on the module"
    if held:
        holds += f" ({', '.join(held)})"
    if not tts:
        return ok("modem prompts", holds, **facts)
    spoken = ", ".join(f"{label} ({why})" for label, why in tts.items())
    return warn("modem prompts", f"{holds}; spoken with TTS instead: {', '.join(tts)}",
                f"{spoken}. Check that sox is installed (conversion), that the module's "
                "storage has room, and the log of the last start; every start tries again",
                **facts)
