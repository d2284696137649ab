"""What every node kind provides, and the compile context kinds use to report problems."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from edge.lines import KEYS
from edge.survey._audio import audio_problem
from edge.survey._model import MATCH_PREFIX, Prompt, PromptText, Settings, State, Transition
from edge.survey._problems import Problem, shown
from edge.survey._templates import Template, parse_template

# Keys every state may carry. ``language`` fixes the language a state speaks in (a code, or a
# Liquid template such as "{{flow.variables.lang}}"), as a Studio widget's language does.
COMMON_KEYS = frozenset({"name", "type", "prompt", "note", "language"})


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
               required: bool = True, languages: tuple[str, ...] | None = None) -> Prompt | None:
        """Parse ``{"en": "text" | {"text": ..., "audio": ...}, ...}``; every language of
        ``languages`` (default: every declared one) needs a text or a recording."""
        if raw is None:
            if required:
                self.problem(path, "missing prompt", state)
            return None
        if not isinstance(raw, dict):
            self.problem(path, f"expected an object of language -> prompt, got {shown(raw)}", state)
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
            if not isinstance(entry, dict) or set(entry) - {"text", "audio", "url"}:
                self.problem(entry_path, 'expected a text or {"text": ..., "audio": ...}',
                             state)
                continue
            text, audio = entry.get("text", ""), entry.get("audio")
            url = entry.get("url")
            if not isinstance(text, str) or any(
                    v is not None and not isinstance(v, str) for v in (audio, url)):
                self.problem(entry_path, "text, audio and url must be strings", state)
                continue
            if url and not audio:
                self.problem(f"{entry_path}.audio", "a url needs the audio file it is kept in "
                             '(e.g. "audio/welcome.wav")', state)
                continue
            if not text and not audio:
                self.problem(entry_path, "empty prompt: give a text or an audio file", state)
                continue
            audio_path = None
            spoken = self.settings.tts_allowed(language)
            if not audio and not spoken:
                self.problem(entry_path, f"no recording, and text-to-speech is off for "
                             f"{language!r} (settings.tts): give an audio file", state)
            if audio:
                audio_path = Path(audio)
                if not audio_path.is_absolute() and self.base_dir is not None:
                    audio_path = self.base_dir / audio_path
                self._check_audio(audio, audio_path, url, bool(text) and spoken,
                                  f"{entry_path}.audio", state,
                                  "" if spoken or not text else
                                  f" (text-to-speech is off for {language!r}: the caller "
                                  "would hear nothing)")
            if text:
                self.template(text, f"{entry_path}.text", state)
            prompt[language] = PromptText(text, audio_path)
        for language in self.languages if languages is None else languages:
            if language not in prompt and not any(
                p.path.startswith(f"{path}.{language}") for p in self.problems
            ):
                self.problem(path, f"prompt missing for language {language!r}", state)
        return prompt

    def _check_audio(self, audio: str, path: Path, url: str | None, has_text: bool,
                     where: str, state: str | None, why: str = "") -> None:
        """Missing audio falls back to the text (a warning); with no text (or text-to-speech
        off for the language), or a file that is empty or cannot be decoded, the caller would
        hear silence (an error)."""
        problem = audio_problem(path)
        if problem is None:
            return
        missing = problem == "not found"
        if missing and url:
            problem = (f"not fetched yet from {url}: run 'edgecall survey fetch-audio' while "
                       "online")
        if missing and has_text:
            self.problem(where, f"audio file {audio} {problem}; the text will be spoken "
                         "instead", state, "warning")
        else:
            self.problem(where, f"audio file {audio} {problem}{why}", state)
    def key(self, raw: Any, path: str, state: str | None) -> str | None:
        if raw is None:
            self.problem(path, "missing: one keypad key (0-9, *, #, A-D)", state)
            return None
        if not isinstance(raw, str) or len(raw) != 1 or raw not in KEYS:
            self.problem(path, f"expected one keypad key (0-9, *, #, A-D), got {shown(raw)}", state)
            return None
        return raw

    def target(self, raw: Any, path: str, state: str | None) -> str | None:
        if raw is None or isinstance(raw, str):
            return raw
        self.problem(path, f"expected a state name or null, got {shown(raw)}", state)
        return None

    def transition(self, event: str, raw: Any, path: str, state: str | None) -> Transition:
        """A transition that remembers where the author wrote it, for the checker."""
        return Transition(event, self.target(raw, path, state), path)


@dataclass(frozen=True)
class GatherSpec:
    num_digits: int  # input ends when this many keys were pressed
    finish_key: str  # "" when none
    timeout_s: float


@dataclass(frozen=True)
class Interpretation:
    value: str
    event: str  # transition to take: "match:<value>" when the state has one, else keypress


@dataclass(frozen=True)
class Step:
    """What a state without a prompt decided (split, set, cloud widgets): the transition to
    follow and what the call learned, in Studio's terms."""

    event: str
    outputs: Mapping[str, Any] | None = None  # {{widgets.<state>.*}}
    variables: Mapping[str, str] | None = None  # {{flow.variables.*}} to set
    request: tuple[str, Mapping[str, Any]] | None = None  # (widget type, body) queued for HQ
    # (number, ring seconds): hand the caller to the number through the line; ``event`` is
    # then only the way on if the line cannot (see nodes/connect.py)
    connect: tuple[str, float] | None = None
    note: Mapping[str, Any] | None = None  # for the call's timeline; never caller data


Render = Callable[[str], str]

class NodeKind:
    """Base of the node kinds. ``behaviour`` tells the session how to run the state:
    ``gather`` (prompt, then keys), ``say`` (prompt, then the next state), ``route`` (no prompt,
    choose the next state from earlier answers), ``record`` (prompt and tone, then the
    caller's voice: nodes/record.py)."""

    name: ClassVar[str]
    behaviour: ClassVar[str]
    keys: ClassVar[frozenset[str]] = frozenset()
    prompt_required: ClassVar[bool] = True
    prompt_allowed: ClassVar[bool] = False  # a prompt that may be left out (record)

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

    def step(self, state: State, render: Render, settings: Settings) -> Step:
        """Run a route state: ``render`` renders Liquid in this call's context."""
        return Step(self.route(state, render(state.props["input"])))

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
    transitions = [ctx.transition("keypress", raw.get("next", following), f"{path}.next",
                                  name)]
    if "on_timeout" in raw:
        transitions.append(ctx.transition("timeout", raw["on_timeout"], f"{path}.on_timeout",
                                          name))
    elif raw.get("optional") is True:  # silence is no answer: go on to the next state
        transitions.append(Transition("timeout", transitions[0].next, transitions[0].path))
    if "on_invalid" in raw:
        transitions.append(ctx.transition("noMatch", raw["on_invalid"], f"{path}.on_invalid",
                                          name))
    return transitions


GATHER_KEYS = frozenset({"next", "on_timeout", "on_invalid", "timeout", "max_attempts", "sorry",
                         "optional"})


def gather_overrides(raw: Mapping[str, Any], path: str, ctx: CompileContext,
                     name: str | None) -> dict[str, Any]:
    """Per-question ``timeout`` (seconds) and ``max_attempts`` override the survey settings."""
    props: dict[str, Any] = {}
    if "timeout" in raw:
        value = raw["timeout"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 60:
            ctx.problem(f"{path}.timeout", f"expected seconds from 1 to 60, got {shown(value)}",
                        name)
        else:
            props["timeout_s"] = float(value)
    if "max_attempts" in raw:
        value = raw["max_attempts"]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
            ctx.problem(f"{path}.max_attempts", f"expected 1 to 10, got {shown(value)}", name)
        else:
            props["max_attempts"] = value
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        ctx.problem(f"{path}.optional", f"expected true or false, got {shown(optional)}", name)
    elif optional:  # silence skips it, and is no sign the caller has gone
        props["optional"] = True
    if "sorry" in raw:  # this question's own "that is not a valid answer" (XLSForm
        # constraint_message), played instead of the survey's sorry message
        sorry = ctx.prompt(raw["sorry"], f"{path}.sorry", name)
        if sorry:
            props["sorry"] = sorry
    return props


def say_loop(raw: Mapping[str, Any], path: str, ctx: CompileContext,
             name: str | None) -> dict[str, Any]:
    """``loop``: how many times a message plays (Studio's say-play ``loop``)."""
    if "loop" not in raw:
        return {}
    value = raw["loop"]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
        ctx.problem(f"{path}.loop", f"expected a whole number from 1 to 10, got {shown(value)}",
                    name)
        return {}
    return {"loop": value}
