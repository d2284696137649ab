"""``edgecall doctor``: checks the box and says what to do about each problem.

Public face: :class:`CheckResult` with the helpers ``ok``/``warn``/``fail`` that plug-in checks
(modem, SIP, sync) build their results with, and :func:`dtmf_test`. The runner that loads the
config and runs every check is :mod:`edge.doctor.runner` (``run_checks``, ``exit_code``); it is
kept out of this face so that a plug-in importing the result type does not pull in the server,
the store and the survey engine.
"""

from ._dtmf import dtmf_test, judge
from ._result import FAIL, OK, WARN, CheckResult, fail, ok, warn

__all__ = ["FAIL", "OK", "WARN", "CheckResult", "dtmf_test", "fail", "judge", "ok", "warn"]
