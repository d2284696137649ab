"""How other packages extend the box without edge/ importing them.

Entry point groups (declared in pyproject.toml):

- ``edgecall.lines``: a :class:`edge.lines.LineKind` (its config section comes with it);
- ``edgecall.sections``: a :class:`edge.config.Section` or a tuple of them (e.g. sync's
  ``[sync]``, ``[hq]``);
- ``edgecall.commands``: ``register(subparsers)`` adding CLI subcommands; each subparser sets
  ``func=handler`` where ``handler(args) -> int`` is the exit code;
- ``edgecall.services``: ``start(context: ServiceContext) -> object with .stop()``, run beside
  the call server by ``edgecall serve`` (e.g. the sync scheduler);
- ``edgecall.status``: ``status_lines(store) -> list[tuple[str, str]]`` (label, value) shown by
  ``edgecall status`` (e.g. sync backlog and last success);
- ``edgecall.doctor``: ``checks(config) -> iterable of edge.doctor.CheckResult`` run by
  ``edgecall doctor`` (modem, SIP gateway, HQ, Twilio);
- ``edgecall.demo_lines``: a bank of simulated hardware behind real line drivers for
  ``edgecall demo --via NAME`` (see edge.demo._networks).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

from edge.config import CORE_SECTIONS, Section
from edge.lines import LineKind

if TYPE_CHECKING:
    from edge.clock import Clock
    from edge.config import Config
    from edge.lines import Line
    from edge.store import Store

log = logging.getLogger(__name__)


@functools.cache
def _load(group: str) -> tuple[tuple[str, Any], ...]:
    """Entry points of a group, loaded once per process (a broken one is logged once)."""
    loaded = []
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        try:
            loaded.append((ep.name, ep.load()))
        except Exception as exc:  # one broken plug-in must not take the box down
            log.error("plug-in %s:%s could not be loaded: %s", group, ep.name, exc)
    return tuple(loaded)


def line_kinds() -> dict[str, LineKind]:
    """Every installed line kind by name. A broken plug-in is logged and left out, so one bad
    driver does not stop the box from answering on the others."""
    kinds: dict[str, LineKind] = {}
    for name, obj in _load("edgecall.lines"):
        if isinstance(obj, LineKind):
            kinds[obj.name] = obj
        else:
            log.error("entry point edgecall.lines:%s does not name a LineKind", name)
    return kinds


def plugin_sections() -> list[Section]:
    sections: list[Section] = [kind.section for kind in line_kinds().values()]
    for _name, obj in _load("edgecall.sections"):
        sections.extend(obj if isinstance(obj, tuple | list) else [obj])
    return [s for s in sections if isinstance(s, Section)]


def all_sections() -> list[Section]:
    """A box's config sections: edge's own, then those of installed plug-ins (line kinds,
    sync, the status page)."""
    return [*CORE_SECTIONS, *plugin_sections()]


def command_registrars() -> list[Callable[[Any], None]]:
    return [obj for _name, obj in _load("edgecall.commands") if callable(obj)]


@dataclass(frozen=True)
class ServiceContext:
    config: Config
    store: Store
    clock: Clock
    # Tells every service (its optional ``notify(topic)``) of news such as "link-up", which
    # the server's link watch sends when a default route appears (sync then tries at once).
    notify: Callable[[str], None] = lambda _topic: None
    # The running lines, for services that show their state (status page, doctor).
    lines: tuple[Line, ...] = ()
    # The box's APScheduler (a BackgroundScheduler, started): services add their timed jobs
    # here rather than running schedulers of their own. None outside a running box.
    scheduler: Any = None


class Service(Protocol):
    def stop(self) -> None: ...


def service_starters() -> list[tuple[str, Callable[[ServiceContext], Service]]]:
    return [(name, obj) for name, obj in _load("edgecall.services") if callable(obj)]


def status_providers() -> list[Callable[[Store], list[tuple[str, str]]]]:
    return [obj for _name, obj in _load("edgecall.status") if callable(obj)]


def doctor_checks() -> list[tuple[str, Callable[[Config], Any]]]:
    return [(name, obj) for name, obj in _load("edgecall.doctor") if callable(obj)]


def demo_lines() -> dict[str, Callable[..., Any]]:
    """``edgecall.demo_lines``: simulated hardware banks the demo can call through."""
    return {name: obj for name, obj in _load("edgecall.demo_lines") if callable(obj)}
