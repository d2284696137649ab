"""``edgecall`` command line. Each subcommand lives in its own module here; other packages add
theirs through the ``edgecall.commands`` entry point group (see edge.plugins)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from edge import __version__
from edge.config import ConfigError
from edge.plugins import command_registrars
from edge.server import BoxError

from ._common import add_config_argument, open_store, read_config, setup_logging
from ._errors import UserError

# What plug-in commands (sync, hq) build on.
__all__ = ["UserError", "add_config_argument", "main", "open_store", "read_config",
           "setup_logging"]


def build_parser() -> argparse.ArgumentParser:
    from . import (
        cmd_demo,
        cmd_doctor,
        cmd_export,
        cmd_init,
        cmd_install,
        cmd_serve,
        cmd_status,
        cmd_survey,
    )

    parser = argparse.ArgumentParser(
        prog="edgecall",
        description="Offline-capable edge call server: keypad surveys over GSM, stored in "
        "SQLite, synced to HQ.",
    )
    parser.add_argument("--version", action="version", version=f"edgecall {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (cmd_init, cmd_serve, cmd_demo, cmd_survey, cmd_export, cmd_status,
                   cmd_doctor, cmd_install):
        module.register(subparsers)
    for register in command_registrars():
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (UserError, ConfigError, BoxError) as exc:
        print(f"edgecall: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt:
        print("edgecall: interrupted", file=sys.stderr)
        return 130
