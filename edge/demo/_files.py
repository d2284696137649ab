"""The files a demo leaves behind so that the demo box works with every command afterwards:
``edgecall.toml`` (box id ``demo``, its data, an ``[hq]`` section for a local HQ),
``secrets.toml`` (pseudonym key, HQ key; mode 0600, kept across runs), and for that local HQ
``hq.toml`` and ``boxes.toml`` (the demo box and its key). Then::

    edgecall hq serve -c edgecall-demo/hq.toml          # a second terminal
    edgecall sync --once -c edgecall-demo/edgecall.toml
    edgecall hq export -c edgecall-demo/hq.toml -o edgecall-demo/hq-calls.csv
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from edge.config._render import render_config
from edge.plugins import all_sections

DEMO_BOX = "demo"
HQ_URL = "http://127.0.0.1:8750/v1/batches"


def secrets_file(directory: Path) -> Path:
    """``directory/secrets.toml`` (0600) with a pseudonym key and an HQ key; an existing
    file keeps its keys (and gets an HQ key if it has none)."""
    path = directory / "secrets.toml"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if "pseudonym_key" not in text:
        text += f'pseudonym_key = "{secrets.token_hex(32)}"\n'
    if "hq_secret" not in text:
        text += f'hq_secret = "{secrets.token_urlsafe(24)}"\n'
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def hq_secret(path: Path) -> str:
    found = re.search(r'^hq_secret\s*=\s*"([^"]+)"', path.read_text(encoding="utf-8"), re.M)
    return found.group(1) if found else ""


def write_files(directory: Path, survey: Path) -> Path:
    """Write the demo box's config and the local HQ's files; returns the config's path."""
    secret = hq_secret(secrets_file(directory))
    config = directory / "edgecall.toml"
    config.write_text(render_config(all_sections(), {
        "box": {"id": DEMO_BOX, "data_dir": "data", "secrets_file": "secrets.toml"},
        "survey": {"file": str(survey)},
        "hq": {"url": HQ_URL, "allow_http": True},
    }), encoding="utf-8")
    (directory / "hq.toml").write_text(
        "# A local HQ for the demo box: edgecall hq serve -c edgecall-demo/hq.toml\n"
        '[hq]\ndatabase = "hq.db"\nlisten = "127.0.0.1:8750"\nworkers = 1\n'
        'url = "http://127.0.0.1:8750/v1/batches"\nboxes_file = "boxes.toml"\n',
        encoding="utf-8")
    fd = os.open(directory / "boxes.toml", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f'[boxes]\n{DEMO_BOX} = "{secret}"\n')
    return config
