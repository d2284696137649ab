"""Legacy box keys: a TOML ``[boxes]`` table (box id = its hq_secret), as ``hq serve
--boxes`` took before enrolment; ``hq serve --boxes FILE`` enrols them into the database."""

from __future__ import annotations

import tomllib
from pathlib import Path


def load_box_secrets(path: Path) -> dict[str, bytes]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    boxes = raw.get("boxes", {})
    return {str(k): str(v).encode() for k, v in boxes.items()}
