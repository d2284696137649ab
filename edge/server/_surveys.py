"""Which survey a new call gets.

The configured file, unless sync has pulled a newer one down: then
``data_dir/surveys/current.json`` (replaced atomically by sync) points at it. The pointer is
read at the start of each call, so a switch happens between calls, never during one.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from pathlib import Path

from edge.survey import PromptText, Survey, SurveyError, load_survey

log = logging.getLogger("edgecall.surveys")


class SurveySource:
    def __init__(self, configured: Path, data_dir: Path | None = None) -> None:
        self._configured_path = configured
        self._configured = load_survey(configured)  # a bad configured survey stops start-up
        self._pointer = (data_dir / "surveys" / "current.json") if data_dir else None
        self._lock = threading.Lock()
        self._pulled: tuple[tuple[str, float], Survey] | None = None

    def current(self) -> Survey:
        pointer = self._pointer
        if pointer is None or not pointer.is_file():
            return self._configured
        try:
            target = Path(json.loads(pointer.read_text(encoding="utf-8"))["path"])
            if not target.is_absolute():
                target = pointer.parent / target
            stamp = (str(target), target.stat().st_mtime)
            with self._lock:
                if self._pulled is None or self._pulled[0] != stamp:
                    self._pulled = (stamp, load_survey(target))
                    log.info("survey %s version %s is now in use", self._pulled[1].id,
                             self._pulled[1].version)
                return self._pulled[1]
        except (OSError, ValueError, KeyError, SurveyError) as exc:
            log.error("pulled survey unusable (%s); using %s", exc, self._configured_path)
            return self._configured


def survey_recordings(survey: Survey) -> list[tuple[str, str, Path]]:
    """Every recording the survey can play, as (prompt key, language, WAV path), keyed as the
    engine keys its utterances (``<state>.prompt``, ``<state>.<prop>``, ``message.<name>``).
    Lines that keep prompts on their hardware (modem storage) upload these ahead of calls."""
    found: list[tuple[str, str, Path]] = []

    def add(key: str, prompt: object) -> None:
        if not isinstance(prompt, Mapping):
            return
        for language, entry in prompt.items():
            if isinstance(entry, PromptText) and entry.audio is not None:
                found.append((key, str(language), entry.audio))

    for name, state in survey.states.items():
        add(f"{name}.prompt", state.prompt)
        for prop, value in state.props.items():
            add(f"{name}.{prop}", value)
    for name, prompt in survey.messages.items():
        add(f"message.{name}", prompt)
    return found
