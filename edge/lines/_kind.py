"""How a kind of line declares itself: its config section and a factory.

A package that provides a line (hardware/sip, hardware/modem) declares in pyproject.toml::

    [project.entry-points."edgecall.lines"]
    modem = "hardware.modem:KIND"

where ``KIND`` is a :class:`LineKind`; edge.plugins finds it at run time, so edge/ never imports
hardware/.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from edge.config import Section

from ._call import Line


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
