"""A simulated GSM module (SIM800, EC25, SIM7600) on a pseudo-terminal, for tests and the
demo: ``ModemSimulator(profile).start()`` then open ``.path`` with pyserial. The numbers it
dials reach simulated phones (``set_phone(number, SimPhone(...))``). Field behaviours
of particular modules are opt-in: ``ModemSimulator(profile, variants={"late_clcc"})`` (see
``VARIANTS``).

Also ``python -m hardware.modem.simulator --help``.
"""

from ._demo import ModemDemo
from ._model import SIM_PROFILES, ModemModel
from ._outgoing import PHONE_BEHAVIOURS, SimPhone
from ._server import CONTROL_HELP, ModemSimulator, send_control
from ._variants import CATALOGUE as VARIANTS
from ._variants import Variants

__all__ = ["CONTROL_HELP", "PHONE_BEHAVIOURS", "SIM_PROFILES", "VARIANTS", "ModemDemo",
           "ModemModel", "ModemSimulator", "SimPhone", "Variants", "send_control"]
