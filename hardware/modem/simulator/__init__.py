"""A simulated GSM module (SIM800, EC25, SIM7600) on a pseudo-terminal, for tests and the
demo: ``ModemSimulator(profile).start()`` then open ``.path`` with pyserial.

Also ``python -m hardware.modem.simulator --help``.
"""

from ._demo import ModemDemo
from ._model import SIM_PROFILES, ModemModel
from ._server import CONTROL_HELP, ModemSimulator, send_control

__all__ = ["CONTROL_HELP", "SIM_PROFILES", "ModemDemo", "ModemModel", "ModemSimulator",
           "send_control"]
