"""What several commands share: finding the config, opening the box's store, logging."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from edge.clock import Clock
from edge.config import Config, load_config
from edge.plugins import all_sections
from edge.server import BoxError
from edge.server import open_store as open_box_store
from edge.store import Store

from ._errors import UserError

DEFAULT_CONFIGS = (Path("edgecall.toml"), Path("/etc/edgecall/edgecall.toml"))


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", "-c", type=Path, default=None,
        help="config file (default: $EDGECALL_CONFIG, ./edgecall.toml, "
        "/etc/edgecall/edgecall.toml)",
    )


def find_config(path: Path | None) -> Path:
    if path is not None:
        return path
    if os.environ.get("EDGECALL_CONFIG"):
        return Path(os.environ["EDGECALL_CONFIG"])
    for candidate in DEFAULT_CONFIGS:
        if candidate.is_file():
            return candidate
    raise UserError("no config file found: pass --config FILE or run 'edgecall init' first")


def read_config(args: argparse.Namespace, with_secrets: bool = True) -> Config:
    return load_config(find_config(args.config), all_sections(), with_secrets=with_secrets)


def open_store(config: Config, clock: Clock | None = None, create: bool = True, *,
               read_only: bool = False) -> Store:
    try:
        return open_box_store(config, clock, create, read_only=read_only)
    except BoxError as exc:
        raise UserError(str(exc)) from exc


class _OneLine(logging.Formatter):
    """journald-friendly: one line per event, no multi-line tracebacks splitting the record."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text.replace("\n", " | ")


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    fmt = "%(levelname)s %(name)s: %(message)s"
    if not os.environ.get("JOURNAL_STREAM"):  # journald adds its own timestamps
        fmt = "%(asctime)s " + fmt
    handler.setFormatter(_OneLine(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
