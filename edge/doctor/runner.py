"""Run every check, core and plug-in, and say what to do."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from pathlib import Path

from edge.config import Config, load_config
from edge.plugins import all_sections, doctor_checks

from ._core import (
    check_clock,
    check_config,
    check_lines,
    check_secrets,
    check_storage,
    check_surveys,
)
from ._result import FAIL, WARN, CheckResult, fail

log = logging.getLogger("edgecall.doctor")


def plugin_checks(config: Config) -> Iterable[CheckResult]:
    for name, checks in doctor_checks():
        try:
            yield from checks(config)
        except Exception as exc:  # a broken check must not hide the others
            yield fail(name, f"the {name} checks failed to run: {exc}",
                       "report this; the other checks are still valid")


def run_checks(config_path: Path) -> list[CheckResult]:
    config, result = check_config(config_path)
    results = [result]
    if config is None:
        return results
    results += check_secrets(config)
    with contextlib.suppress(Exception):  # the secrets check has said why
        config = load_config(config_path, all_sections())
    results += check_storage(config)
    results.append(check_clock())
    results += check_surveys(config)
    results.append(check_lines(config))
    results += plugin_checks(config)
    return results


def exit_code(results: list[CheckResult]) -> int:
    """0 all passed, 1 something failed, 3 warnings only."""
    statuses = {r.status for r in results}
    if FAIL in statuses:
        return 1
    return 3 if WARN in statuses else 0
