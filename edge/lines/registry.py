"""Line kinds, discovered through the ``edgecall.lines`` entry point group.

A package that provides a line (hardware/sip, hardware/modem) declares in pyproject.toml::

    [project.entry-points."edgecall.lines"]
    modem = "hardware.modem:KIND"

where ``KIND`` is a :class:`LineKind`. edge/ finds it at run time and never imports hardware/.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from edge.config._schema import Section

from ._call import Line

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LineContext:
    """What the server gives a line besides its own config section.

    ``on_network_time`` is called with an aware UTC datetime when the line learns the network's
    time (a modem's +CTZV/+QLTS); the clock module decides whether to trust it.
    ``on_sms`` receives (pseudonymisable sender, text) for messages a line receives.
    """

    data_dir: Path
    on_network_time: Callable[[datetime], None] = lambda _utc: None
    on_sms: Callable[[str, str], None] = lambda _sender, _text: None
    extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LineKind:
    """A kind of line: its config section (``[name]`` in the config file) and a factory.

    ``create(settings, context)`` returns a ready-to-start :class:`Line` from the validated
    settings of its section.
    """

    name: str
    section: Section
    create: Callable[[dict[str, Any], LineContext], Line]


_GROUP = "edgecall.lines"


def line_kinds() -> dict[str, LineKind]:
    """Every installed line kind by name. A broken plug-in is logged and left out, so one bad
    driver does not stop the box from answering on the others."""
    kinds: dict[str, LineKind] = {}
    for ep in entry_points(group=_GROUP):
        try:
            kind = ep.load()
        except Exception as exc:  # a missing optional dependency in one driver
            log.error("line kind %s could not be loaded: %s", ep.name, exc)
            continue
        if not isinstance(kind, LineKind):
            log.error("entry point %s does not name a LineKind", ep.name)
            continue
        kinds[kind.name] = kind
    return kinds
