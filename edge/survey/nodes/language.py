"""language: the caller picks the language of the rest of the call.

The prompt is played in every declared language, one after the other ("For English press 1.
Pour le français, appuyez sur 2."). Silence on every attempt keeps the survey's default
language and goes on (low-literacy callers should not be cut off here) unless ``on_timeout``
says otherwise.

Authoring::

    {"name": "language", "type": "language", "prompt": {...},
     "options": {"1": "en", "2": "fr", "3": "ar"}}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edge.survey._model import Transition

from ._base import (
    GATHER_KEYS,
    CompileContext,
    SingleKeyKind,
    gather_overrides,
    gather_transitions,
)


class Language(SingleKeyKind):
    name = "language"
    keys = GATHER_KEYS | {"options"}

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        name = raw.get("name")
        transitions = gather_transitions(raw, path, following, ctx, name)
        if not any(t.event == "timeout" for t in transitions):
            # Silence: carry on in the default language.
            transitions.append(Transition("timeout", transitions[0].next, transitions[0].path))
        options: dict[str, str] = {}
        raw_options = raw.get("options")
        if not isinstance(raw_options, dict) or not raw_options:
            ctx.problem(f"{path}.options", 'expected {"<key>": "<language>", ...}', name)
            raw_options = {}
        for key, language in raw_options.items():
            option_path = f"{path}.options.{key}"
            if ctx.key(key, option_path, name) is None:
                continue
            if language not in ctx.languages:
                ctx.problem(option_path, f"language {language!r} is not declared in "
                            f"'languages' {list(ctx.languages)}", name)
                continue
            if language in options.values():
                ctx.problem(option_path, f"language {language!r} is offered twice", name)
                continue
            options[key] = language
        for language in ctx.languages:
            if raw_options and language not in options.values():
                ctx.problem(f"{path}.options", f"declared language {language!r} has no key",
                            name, "warning")
        props = {"options": options, **gather_overrides(raw, path, ctx, name)}
        return props, transitions


KIND = Language()
