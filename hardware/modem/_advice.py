"""What to do when keys do not arrive through a GSM module: the advice ``edgecall doctor``
gives for a modem line (its own checks and ``--dtmf-test``), by module and by what the module
said to the DTMF enable. No SIP words here: a modem line has no DTMF mode to change.
"""

from __future__ import annotations

from ._profiles import Profile

_OPERATOR = ("some operators do not carry DTMF tones at all: try a SIM from another operator, "
             "or call from another network")
_ALTERNATIVE = "or put a GSM-SIP gateway with RFC 2833 in its place"


def dtmf_advice(profile: Profile, reporting: str | None, case: str) -> str:
    """``case``: ``none`` (no key arrived), ``missing`` (some never did), ``irregular``
    (repeated or out of order). ``reporting``: the ``dtmf_reporting`` status fact."""
    enable = " / ".join(profile.dtmf_enable) or "DTMF detection"
    if case == "none":
        if reporting == "refused":
            why = (f"the module refused {enable}: its firmware may lack DTMF detection; update "
                   f"it or use a module that has it (SIM800 with AT+DDET, EC25, SIM7600) "
                   f"{_ALTERNATIVE}")
        elif reporting == "none" or not profile.dtmf_enable:
            why = f"this module has no DTMF detection: use a SIM800, EC25 or SIM7600 {_ALTERNATIVE}"
        else:
            why = (f"the module accepted {enable} but reported no key: some SIM800L units "
                   f"never do; replace the module {_ALTERNATIVE}")
        return f"{why}; {_OPERATOR}"
    if case == "missing":
        return ("press each key firmly for half a second (the module's detector needs a steady "
                "tone); if the same keys stay missing, the network loses them: try a SIM from "
                "another operator, or call from another network")
    hold = ("; AT+DDET's second number (the least time between two reports of one key) "
            "can be raised") if any(c.startswith("AT+DDET") for c in profile.dtmf_enable) else ""
    return f"hold keys shorter: a long press can be reported twice{hold}"
