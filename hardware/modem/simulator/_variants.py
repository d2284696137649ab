"""Field behaviours of real modules that the simulator can take on, one test at a time.

A variant is a name, optionally with one number (``late_clcc=6``); each is off unless asked for::

    ModemSimulator("sim800", variants={"late_clcc", "no_clip"})
    ModemSimulator("ec25", variants={"lost_tts_done": 2})
    python -m hardware.modem.simulator run --variant late_clcc=6 --variant no_clip

The catalogue below is the documentation: what the module does, the number's meaning, and where
the behaviour was seen (docs/modem.md, "Simulator variants", has the same list).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    name: str
    does: str
    default: float | None = None  # the number's default; None: the variant takes no number
    source: str = ""


CATALOGUE: dict[str, Variant] = {v.name: v for v in (
    Variant("late_clcc", "AT+CLCC lists nothing for the first N seconds of ringing", 4.0,
            "issue #11 (field)"),
    Variant("no_clcc_ringing", "AT+CLCC never lists a ringing call (answered calls are "
            "listed)", None,
            "issue #11; github.com/faucamp/python-gsmmodem/issues/12 (call listed only once "
            "active)"),
    Variant("no_clip", "no +CLIP, even after AT+CLIP=1 (operator or firmware withholds it)",
            None, "shared/reference/gsm-modems.md ('RING without CLIP ... happen'); "
            "github.com/thess/callattendant/issues/114 (caller id after 0-2 RINGs, or none)"),
    Variant("lost_tts_done", "the end-of-speech report (+CTTS: 0 / +QWTTS: 0) of the Nth "
            "prompt that finishes on its own is never sent (one report lost)", 1.0,
            "issue #11"),
    Variant("no_tts_done_ucs2", "no end-of-speech report at all for prompts given as UCS2 text",
            None, "issue #11"),
    Variant("frozen_clock", "the network time (+CCLK, +QLTS, *PSUTTZ) stays at one instant: the "
            "last one the network gave, or 2025-01-01 00:00 UTC", None,
            "github.com/the-modem-distro/pinephone_modem_sdk/issues/244 (clock stuck until a "
            "power cycle)"),
    Variant("wrong_clock", "the network time runs but is N days off", 3.0,
            "github.com/Xinyuan-LilyGO/LilyGO-T-SIM7000G/issues/185, "
            "github.com/arduino-libraries/MKRNB/issues/28"),
    Variant("dtmf_forms", "keys come in every form modules send, in turn: +DTMF:1, "
            "+DTMF: 2,160, +DTMF: 3, +RXDTMF: 4, +RXDTMF:5, +QTONEDET: 54, +QTONEDET:55", None,
            "SIM800 AT manual V1.09 s.16 (AT+DDET), V1.05 (space); ModemManager simtech tests "
            "(+RXDTMF); Quectel EC25 AT manual (AT+QTONEDET)"),
    Variant("ddet_error", "the DTMF enable (AT+DDET / AT+QTONEDET) answers ERROR, yet keys are "
            "reported (detection on by default)", None, "issue #11"),
    Variant("cmgr_empty", "incoming SMS are stored in \"ME\" (+CMTI: \"ME\",n) while AT+CMGR "
            "reads the AT+CPMS storage (\"SM\" at boot): a bare OK for that index", None,
            "github.com/zabsalahid/serialport-gsm/issues/12, "
            "github.com/bg111/asterisk-chan-dongle/issues/31"),
    Variant("creg_short", "AT+CREG? answers +CREG: <stat> without <n>, even after AT+CREG=2",
            None, "issue #11"),
    Variant("atd_ok_late", "ATD answers only once the call is connected (OK, with +COLP when "
            "AT+COLP=1) or failed (BUSY/NO ANSWER/NO CARRIER as its final result), whatever "
            "AT+COLP says; a character aborts it", None,
            "SIM800 AT manual V1.09 s.2.2.3 and EC2x AT manual V2.0 s.7.2 (OK after the call "
            "is established with AT+COLP=1, a setting that AT&W keeps); Siemens MC55 AT "
            "manual s.7.3 (AT^SM20=1, its factory default, answers at call setup)"),
    Variant("upload_fails", "the Nth file upload (AT+FSWRITE / AT+QFUPL / AT+CFTRANRX) is "
            "refused once its data has arrived (ERROR; +CME ERROR: 409 on the EC25): the file "
            "is not stored", 1.0,
            "Quectel FILE AT manuals (error 409, fail to write the file); field reports of "
            "truncated uploads without flow control (forums.quectel.com, EC200U AT+QFUPL)"),
    Variant("lost_play_done", "the end report of the Nth file play that ends on its own "
            "(+CREC: 0 / +QPSND: 0 / +AUDIOSTATE: audio play stop) is never sent", 1.0,
            "issue #13 (as lost_tts_done for TTS, issue #11)"),
    Variant("record_fails", "the Nth record command (AT+CREC=1 / AT+QAUDRD=1 / AT+CRECAMR=2) "
            "is refused (ERROR, +CME ERROR with AT+CMEE=1): nothing is recorded", 1.0,
            "issue #13; SIM800 AT manual V1.09 p.337 (AT+CREC errors: 5005 file operation "
            "failure, format error); EC2x AT manual V2.0 s.12.17 (AT+QAUDRD +CME ERROR)"),
    Variant("download_cut", "the Nth file read-back (AT+FSREAD / AT+QFDWL / AT+CFTRANTX) "
            "stops halfway through the data and the module says nothing more", 1.0,
            "issue #13; transfers cut short without flow control (forums.quectel.com, "
            "EC200U AT+QFUPL; the same port carries downloads)"),
    Variant("creg_act", "+CREG answers and URCs end with the access technology "
            "(+CREG: 2,1,\"1A2B\",\"3C4D\",7 / +CREG: 1,\"1A2B\",\"3C4D\",7), as LTE "
            "modules send them", None,
            "3GPP TS 27.007 s.7.2 (<AcT>); Quectel EC25 AT manual (AT+CREG); "
            "github.com/nrfconnect/sdk-zephyr/pull/2176, github.com/vshymanskyy/TinyGSM/pull/503"),
    Variant("ect_refused", "the network refuses explicit call transfer (an operator that does "
            "not offer ECT): AT+CHLD=4 answers +CME ERROR: 3 (ERROR without AT+CMEE=1) and "
            "both calls stay as they were", None,
            "3GPP TS 24.091 s.4.1 (a request the network does not accept: an error, both calls "
            "left as they were); TS 23.091 s.4 (ECT authorised per subscriber in the VLR); "
            "TS 22.091 A.3; Siemens L55 AT manual s.2.3.3.4 (AT+CHLD scope 'depends on ... "
            "the network support'); the CME code is not documented (verify)"),
    Variant("no_ect", "the module has no explicit call transfer: AT+CHLD=? lists "
            "(0,1,1x,2,2x,3) and AT+CHLD=4 answers +CME ERROR: 4 (ERROR without AT+CMEE=1)",
            None,
            "SIM900R01 AT manual V1.00 s.3.2.14 (AT+CHLD <n> 0 to 3, no 4); Fibocom G510 AT "
            "manual (+CHLD: (0,1,1x,2,2x,3)); 3GPP TS 27.007 s.7.13 example list"),
)}


@dataclass(frozen=True)
class Variants:
    """The variants in force: ``"late_clcc" in variants``, ``variants.number("late_clcc")``."""

    chosen: Mapping[str, float | None]

    def __contains__(self, name: object) -> bool:
        return name in self.chosen

    def number(self, name: str) -> float:
        value = self.chosen.get(name)
        if value is None:
            value = CATALOGUE[name].default
        if value is None:
            raise ValueError(f"variant {name} takes no number")
        return value

    @classmethod
    def parse(cls, spec: Variants | Iterable[str] | Mapping[str, float | None] | None
              ) -> Variants:
        """A set of names (``"late_clcc=6"`` gives a number), a mapping name -> number, or
        None. Unknown names raise ValueError, so a typo never silently tests nothing."""
        if isinstance(spec, Variants):
            return spec
        chosen: dict[str, float | None] = {}
        items = spec.items() if isinstance(spec, Mapping) else (
            _split(word) for word in (spec or ()))
        for name, value in items:
            if name not in CATALOGUE:
                raise ValueError(f"unknown simulator variant {name!r}; known: "
                                 + ", ".join(sorted(CATALOGUE)))
            if value is not None and CATALOGUE[name].default is None:
                raise ValueError(f"variant {name} takes no number")
            chosen[name] = None if value is None else float(value)
        return cls(chosen)


def _split(word: str) -> tuple[str, float | None]:
    name, _, value = word.partition("=")
    return name.strip(), float(value) if value else None


def describe() -> str:
    """One line per variant, for ``--help``."""
    return "\n".join(
        f"{v.name}{'=N' if v.default is not None else ''}: {v.does}" for v in CATALOGUE.values())
