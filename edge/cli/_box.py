"""Assembling a box from a config: lines from the installed line kinds, survey source."""

from __future__ import annotations

import logging
from collections.abc import Callable

from edge.clock import Clock
from edge.config import Config
from edge.lines import Line, LineContext
from edge.plugins import line_kinds
from edge.server import SurveySource
from edge.survey import SurveyError, resolve_survey_path

from ._errors import UserError

log = logging.getLogger("edgecall")


def build_lines(config: Config, clock: Clock,
                on_sms: Callable[[str, str], None] | None = None) -> list[Line]:
    context = LineContext(
        data_dir=config.data_dir,
        on_network_time=clock.note_network_time,
        on_sms=on_sms or (lambda _sender, _text: None),
        extras={"config_dir": config.base_dir, "box_id": config.box_id,
                "secrets": dict(config.secrets)},
    )
    lines: list[Line] = []
    for name, kind in sorted(line_kinds().items()):
        settings = config.section(name)
        if settings is None or not settings.get("enabled", True):
            continue
        try:
            lines.append(kind.create(settings, context))
        except (OSError, ValueError) as exc:
            raise UserError(f"[{name}] line cannot be set up: {exc}") from exc
    if not lines:
        raise UserError("no line is enabled: configure [sip], [modem] or [simulated] "
                        "(see docs/configuration.md)")
    return lines


def survey_source(config: Config) -> SurveySource:
    path = resolve_survey_path(config.sections["survey"]["file"], config.base_dir)
    try:
        return SurveySource(path, config.data_dir)
    except SurveyError as exc:
        raise UserError(f"{exc}") from exc
