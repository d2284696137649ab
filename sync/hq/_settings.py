"""How one HQ receiver behaves: the timestamp window, the limits, where survey packs are,
the fleet page's password and alert thresholds. Built from hq.toml by ``_config``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ._limits import Limits


@dataclass
class Alerts:
    silent_h: float = 6.0  # no request from the box for this long
    disk_low_mb: float = 500.0
    backlog_records: int = 20_000


@dataclass
class HqSettings:
    window_s: float = 300.0
    limits: Limits = field(default_factory=Limits)
    surveys_dir: Path | None = None
    audio_dir: Path | None = None  # recordings the boxes upload; None: HQ takes none
    public_url: str = ""  # [hq] url: links in exports are made from its base
    partial_ttl_s: float = 3600.0  # how long a broken upload's bytes wait for the rest
    rotation_grace_s: float = 14 * 86400.0  # an old key stays valid after a rotation
    fleet_password: str = ""  # "" : no fleet page
    alerts: Alerts = field(default_factory=Alerts)
    # Boxes that predate X-Edgecall-Auth sign only the body: accept them (their body is
    # then read before it is authenticated). Off unless a deployment has such boxes.
    body_only_auth: bool = False
    wall: Callable[[], float] = time.time
    stats: dict[str, int] = field(default_factory=dict)
