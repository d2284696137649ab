"""GSM modem line: answers calls and reads keys through a SIM800, EC25 or SIM7600 module.

Public face::

    KIND            the ``modem`` LineKind (entry point ``edgecall.lines``)
    SECTION         its ``[modem]`` config section
    ModemLine       the Line and Dialer (also ``send_sms``)
    PROFILES        supported modules
    doctor_checks   ``edgecall doctor`` checks (entry point ``edgecall.doctor``)

The simulator for tests and the demo is :mod:`hardware.modem.simulator`.
"""

from __future__ import annotations

from typing import Any

from edge.config import Key, Section
from edge.lines import Line, LineContext, LineKind

from ._call import ModemCall
from ._doctor import doctor_checks
from ._line import ModemLine
from ._profiles import PROFILES, Profile
from ._settings import ModemSettings


def _port(value: str) -> str | None:
    if not value.strip():
        return "give the module's AT port, e.g. /dev/ttyUSB2 or /dev/serial0"
    return None


def _pin(value: str) -> str | None:
    if value and not (value.isdigit() and 4 <= len(value) <= 8):
        return "a SIM PIN is 4 to 8 digits (leave empty when the SIM has none)"
    return None


SECTION = Section(
    "modem",
    "A GSM module (SIM800, Quectel EC25/EG25/UC15, SIM7600) on a serial or USB port that "
    "answers calls itself.",
    (
        Key("enabled", bool, True, "Answer calls on this modem (false keeps the section but "
            "leaves the port alone)."),
        Key("port", str, "/dev/ttyUSB2",
            "The module's AT port: /dev/ttyUSB2 for an EC25 on USB, /dev/serial0 for a SIM800 "
            "on the Pi's UART, or a pyserial URL such as socket://127.0.0.1:7301.",
            check=_port),
        Key("profile", str, "sim800", "Which module it is.", choices=tuple(sorted(PROFILES))),
        Key("baud", int, 115200, "Serial speed (USB modules ignore it).", min=1200,
            max=4000000),
        Key("pin", str, "", "SIM PIN, when the SIM asks for one.", check=_pin),
        Key("name", str, "modem", "Name of this line in status and call records."),
        Key("clcc_poll_s", float, 5.0,
            "During a call, how often the call list is read to catch a lost hang-up report.",
            min=0.5, max=60),
        Key("status_poll_s", float, 30.0, "How often signal and registration are read.",
            min=2, max=3600),
        Key("max_backoff_s", float, 10.0,
            "Longest wait between attempts to reopen a port that went away.", min=0.5,
            max=300),
        Key("answer_unknown_after_rings", int, 2,
            "A call that rings with no caller id (+CLIP) and that the module does not list "
            "(AT+CLCC) is answered after this many RINGs, caller unknown.", min=1, max=20),
        Key("on_ring", str, "answer", "'answer' a ringing call, or 'callback': decline it "
            "unanswered (the caller pays nothing) and call the caller back ([outbound]).",
            choices=("answer", "callback")),
        Key("transfers", bool, True,
            "Hand the caller to a number when a survey's connect state asks: the module "
            "holds the caller, calls the number and, once it answers, joins the two and "
            "leaves (explicit call transfer, AT+CHLD=4). The network must offer it; the "
            "SIM pays for the call to the number for as long as they talk. false: the "
            "survey takes its failure path at once."),
    ),
    optional=True,
)


def create(settings: dict[str, Any], context: LineContext) -> Line:
    return ModemLine(ModemSettings.from_config(settings), context)


# Modem lines place calls too (ATD): callbacks and campaigns go out through them.
KIND = LineKind("modem", SECTION, create, dials=True)

__all__ = ["KIND", "PROFILES", "SECTION", "ModemCall", "ModemLine", "ModemSettings", "Profile",
           "doctor_checks"]
