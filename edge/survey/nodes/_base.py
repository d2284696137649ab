"""What every node kind provides, and the compile context kinds use to report problems."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from edge.lines import KEYS
from edge.survey._model import MATCH_PREFIX, Prompt, PromptText, Settings, State, Transition
from edge.survey._problems import Problem
from edge.survey._templates import Template, parse_template

# Keys every state may carry.
COMMON_KEYS = frozenset({"name", "type", "prompt", "note"})


@dataclass
class CompileContext:
    """Shared by the kinds while one survey compiles: declared languages, where audio lives,
    the survey-wide settings, and the problems found so far."""

    languages: tuple[str, ...]
    base_dir: Path | None
    settings: Settings
    problems: list[Problem] = field(default_factory=list)
    templates: dict[str, Template] = field(default_factory=dict)

    def problem(self, path: str, message: str, state: str | None = None,
                severity: str = "error") -> None:
        self.problems.append(Problem(path, message, state, severity))

    def template(self, text: str, path: str, state: str | None) -> None:
        if text not in self.templates:
            template, error = parse_template(text)
            if error:
                self.problem(path, error, state)
            else:
                assert template is not None
                self.templates[text] = template

    def prompt(self, raw: Any, path: str, state: str | None,
               required: bool = True) -> Prompt | None:
        """Parse ``{"en": "text" | {"text": ..., "audio": ...}, ...}``; every declared language
        needs a text or a recording."""
        if raw is None:
            if required:
                self.problem(path, "missing prompt", state)
            return None
        if not isinstance(raw, dict):
            self.problem(path, f"expected an object of language -> prompt, got {raw!r}", state)
            return None
        prompt: dict[str, PromptText] = {}
        for language, entry in raw.items():
            entry_path = f"{path}.{language}"
            if language not in self.languages:
                self.problem(entry_path, f"language {language!r} is not declared in "
                             f"'languages' {list(self.languages)}", state)
                continue
            if isinstance(entry, str):
                entry = {"text": entry}
            if not isinstance(entry, dict) or set(entry) - {"text", "audio"}:
                self.problem(entry_path, "expected a text or {\"text\": ..., \"audio\": ...}",
                             state)
                continue
            text, audio = entry.get("text", ""), entry.get("audio")
            if not isinstance(text, str) or (audio is not None and not isinstance(audio, str)):
                self.problem(entry_path, "text and audio must be strings", state)
                continue
            if not text and not audio:
                self.problem(entry_path, "empty prompt: give a text or an audio file", state)
                continue
            audio_path = None
            if audio:
                audio_path = Path(audio)
                if not audio_path.is_absolute() and self.base_dir is not None:
                    audio_path = self.base_dir / audio_path
                if not audio_path.is_file():
                    severity = "warning" if text else "error"
                    fallback = "; the text will be spoken instead" if text else ""
                    self.problem(f"{entry_path}.audio", f"audio file {audio} not found{fallback}",
                                 state, severity)
            if text:
                self.template(text, f"{entry_path}.text", state)
            prompt[language] = PromptText(text, audio_path)
        for language in self.languages:
            if language not in prompt and not any(
                p.path.startswith(f"{path}.{language}") for p in self.problems
            ):
                self.problem(path, f"prompt missing for language {language!r}", state)
        return prompt

    def key(self, raw: Any, path: str, state: str | None) -> str | None:
        if not isinstance(raw, str) or len(raw) != 1 or raw not in KEYS:
            self.problem(path, f"expected one keypad key (0-9, *, #, A-D), got {raw!r}", state)
            return None
        return raw

    def target(self, raw: Any, path: str, state: str | None) -> str | None:
        if raw is None or isinstance(raw, str):
            return raw
        self.problem(path, f"expected a state name or null, got {raw!r}", state)
        return None


@dataclass(frozen=True)
class GatherSpec:
    num_digits: int  # input ends when this many keys were pressed
    finish_key: str  # "" when none
    timeout_s: float


@dataclass(frozen=True)
class Interpretation:
    value: str
    event: str  # transition to take: "match:<value>" when the state has one, else keypress


class NodeKind:
    """Base of the node kinds. ``behaviour`` tells the session how to run the state:
    ``gather`` (prompt, then keys), ``say`` (prompt, then the next state), ``route`` (no prompt,
    choose the next state from earlier answers)."""

    name: ClassVar[str]
    behaviour: ClassVar[str]
    keys: ClassVar[frozenset[str]] = frozenset()
    prompt_required: ClassVar[bool] = True

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        raise NotImplementedError

    # gather kinds
    def gather_spec(self, state: State, settings: Settings) -> GatherSpec:
        raise NotImplementedError

    def interpret(self, state: State, digits: str) -> Interpretation | None:
        raise NotImplementedError

    # route kinds
    def route(self, state: State, actual: str) -> str:
        """The event to follow, given the state's input rendered for this call."""
        raise NotImplementedError

    def keys_used(self, state: State) -> list[str]:
        """Keys that mean an answer here (the checker refuses the opt-out key among them)."""
        return []


class SingleKeyKind(NodeKind):
    """A question answered by one key from ``props["options"]`` (key -> value). The value's
    own ``match:<value>`` transition is taken when the state has one, else ``keypress``."""

    behaviour = "gather"

    def gather_spec(self, state: State, settings: Settings) -> GatherSpec:
        return GatherSpec(1, "", state.props.get("timeout_s", settings.timeout_s))

    def interpret(self, state: State, digits: str) -> Interpretation | None:
        value = state.props["options"].get(digits)
        if value is None:
            return None
        event = MATCH_PREFIX + value
        return Interpretation(value, event if state.target(event)[0] else "keypress")

    def keys_used(self, state: State) -> list[str]:
        return list(state.props["options"])


def gather_transitions(raw: Mapping[str, Any], path: str, following: str | None,
                       ctx: CompileContext, name: str | None) -> list[Transition]:
    """keypress -> next (default: the following state); timeout/noMatch only when given."""
    transitions = [Transition("keypress", ctx.target(raw.get("next", following),
                                                      f"{path}.next", name))]
    if "on_timeout" in raw:
        transitions.append(Transition("timeout", ctx.target(raw["on_timeout"],
                                                             f"{path}.on_timeout", name)))
    if "on_invalid" in raw:
        transitions.append(Transition("noMatch", ctx.target(raw["on_invalid"],
                                                             f"{path}.on_invalid", name)))
    return transitions


GATHER_KEYS = frozenset({"next", "on_timeout", "on_invalid", "timeout", "max_attempts"})


def gather_overrides(raw: Mapping[str, Any], path: str, ctx: CompileContext,
                     name: str | None) -> dict[str, Any]:
    """Per-question ``timeout`` (seconds) and ``max_attempts`` override the survey settings."""
    props: dict[str, Any] = {}
    if "timeout" in raw:
        value = raw["timeout"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 60:
            ctx.problem(f"{path}.timeout", f"expected seconds from 1 to 60, got {value!r}", name)
        else:
            props["timeout_s"] = float(value)
    if "max_attempts" in raw:
        value = raw["max_attempts"]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
            ctx.problem(f"{path}.max_attempts", f"expected 1 to 10, got {value!r}", name)
        else:
            props["max_attempts"] = value
    return props
