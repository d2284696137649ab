"""The units verify with systemd-analyze, and their exposure stays within the goal."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from edge.cli import main

EXPOSURE_GOAL = 3.0


def analyze() -> str:
    tool = shutil.which("systemd-analyze")
    assert tool, "systemd-analyze is missing: apt-get install systemd (CI installs it)"
    return tool


@pytest.mark.parametrize("hq", [False, True])
def test_rendered_units_verify_and_are_hardened(tmp_path: Path, hq: bool) -> None:
    args = ["install-service", "--write", str(tmp_path)] + (["--hq"] if hq else [])
    assert main(args) == 0
    unit = tmp_path / ("edgecall-hq.service" if hq else "edgecall.service")
    text = unit.read_text()
    assert "@EDGECALL@" not in text
    executable = re.search(r"^ExecStart=(\S+)", text, re.M)
    assert executable and Path(executable.group(1)).exists()
    verify = subprocess.run([analyze(), "verify", str(unit)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr
    security = subprocess.run([analyze(), "security", "--offline=true", str(unit)],
                              capture_output=True, text=True)
    found = re.search(r"Overall exposure level for \S+: ([0-9.]+)", security.stdout)
    assert found, security.stdout + security.stderr
    assert float(found.group(1)) <= EXPOSURE_GOAL


def test_box_unit_keeps_the_promises_of_the_docs() -> None:
    text = (Path(__file__).parents[2] / "systemd" / "edgecall.service").read_text()
    for line in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "User=edgecall",
                 "SupplementaryGroups=dialout", "StateDirectory=edgecall",
                 "ConfigurationDirectory=edgecall", "ProtectSystem=strict", "ProtectHome=yes",
                 "PrivateTmp=yes", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
                 "RestrictAddressFamilies=", "SystemCallFilter="):
        assert line in text, line


def test_printing_the_unit(capsys: pytest.CaptureFixture) -> None:
    assert main(["install-service"]) == 0
    assert "serve --config /etc/edgecall/edgecall.toml" in capsys.readouterr().out


def test_hq_unit_runs_a_command_that_exists() -> None:
    """ExecStart of the HQ unit parses as an edgecall command line (it once named an option
    'hq serve' did not have)."""
    import shlex

    from edge.cli import build_parser

    text = (Path(__file__).parents[2] / "systemd" / "edgecall-hq.service").read_text()
    command = re.search(r"^ExecStart=@EDGECALL@ (.+)$", text, re.M)
    assert command
    args = build_parser().parse_args(shlex.split(command.group(1)))
    assert args.hq_command == "serve" and str(args.config) == "/etc/edgecall/hq.toml"
