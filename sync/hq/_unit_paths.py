"""Where HQ may write when the systemd unit runs it (systemd/edgecall-hq.service:
``ProtectSystem=strict`` with ``StateDirectory=edgecall-hq``): only under /var/lib/edgecall-hq.
Relative paths in hq.toml resolve beside the file, which for the unit is /etc/edgecall,
read-only there. ``hq init`` therefore writes the state directory's paths when it writes the
unit's hq.toml, and ``hq serve`` says which key to change when it cannot write a path."""

from __future__ import annotations

import os
from pathlib import Path

UNIT_CONFIG_DIR = Path("/etc/edgecall")
UNIT_STATE_DIR = Path("/var/lib/edgecall-hq")


def init_defaults(config_dir: Path) -> tuple[str, str]:
    """``hq init``'s [hq] database and audio_dir: beside hq.toml, except in the unit's
    configuration directory, where the unit cannot write: there, in its state directory."""
    if config_dir.resolve() == UNIT_CONFIG_DIR:
        return str(UNIT_STATE_DIR / "hq.db"), str(UNIT_STATE_DIR / "audio")
    return "hq.db", "audio"


def unwritable(key: str, path: Path) -> str | None:
    """Why HQ cannot keep ``[hq] key`` at ``path`` (None: it can): the nearest existing
    directory is not writable, with what to set when the unit is the likely reason."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.is_file():  # a database already there: it and its directory (journal, WAL)
        if os.access(existing, os.W_OK) and os.access(existing.parent, os.W_OK | os.X_OK):
            return None
    elif os.access(existing, os.W_OK | os.X_OK):
        return None
    why = f"[hq] {key}: {path} cannot be written ({existing} is not writable)"
    if UNIT_STATE_DIR not in path.parents:
        why += (f"; under the systemd unit only {UNIT_STATE_DIR} is writable: set "
                f'{key} = "{UNIT_STATE_DIR / path.name}" in hq.toml')
    return why
