"""What every ``edgecall hq`` command opens first: hq.toml (``--config``, else
$EDGECALL_HQ_CONFIG, ./hq.toml, /etc/edgecall/hq.toml) and the database (``--db``, else the
config's), with errors in words. Shared by the hq commands and the performer's."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

DEFAULT_CONFIGS = (Path("hq.toml"), Path("/etc/edgecall/hq.toml"))


def load(args: argparse.Namespace) -> Any:
    from ._config import load as load_config

    path = args.config
    if path is None and os.environ.get("EDGECALL_HQ_CONFIG"):
        path = Path(os.environ["EDGECALL_HQ_CONFIG"])
    if path is None:
        path = next((p for p in DEFAULT_CONFIGS if p.is_file()), None)
    return load_config(path)


def storage(args: argparse.Namespace, config: Any, must_exist: bool = False) -> Any:
    from edge.cli import UserError

    from .storage import open_storage

    database = args.db or config.database
    if must_exist and "://" not in database and not Path(database).is_file():
        raise UserError(f"{database}: no HQ database")
    try:
        return open_storage(database)
    except Exception as exc:  # psycopg's OperationalError and kin: say it in words
        raise UserError(f"cannot open the HQ database {safe_url(database)}: "
                        f"{str(exc).strip().splitlines()[0] if str(exc) else exc}") from exc


def safe_url(database: str) -> str:
    """A database URL without its password, for messages."""
    if "://" in database and "@" in database:
        scheme, rest = database.split("://", 1)
        user, host = rest.rsplit("@", 1)
        return f"{scheme}://{user.split(':')[0]}@{host}"
    return database
