"""``edgecall doctor``: checks the box and says what to do about each problem.

Public face: :func:`run_checks`, :func:`exit_code`, :class:`CheckResult` (with the helpers
``ok``/``warn``/``fail`` for plug-in checks), :func:`dtmf_test`.
"""

from ._dtmf import dtmf_test, judge
from ._result import FAIL, OK, WARN, CheckResult, fail, ok, warn
from ._run import exit_code, run_checks

__all__ = ["FAIL", "OK", "WARN", "CheckResult", "dtmf_test", "exit_code", "fail", "judge",
           "ok", "run_checks", "warn"]
