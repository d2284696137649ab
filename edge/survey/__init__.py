"""Surveys as data: the authoring format, its compiled graph, the checker and the engine.

Public face::

    load_survey(path) -> Survey          raises SurveyError listing every problem
    check_survey(path) -> list[Problem]  every problem, errors and warnings
    BUILTIN_DEMO                         the bundled multilingual demo survey
    Session                              the engine (edge.survey.engine)
"""

from pathlib import Path

from ._compile import compile_file, compile_survey, load_survey
from ._model import ANSWER_KINDS, KEYPAD_KINDS, PromptText, Settings, State, Survey, Transition
from ._problems import Problem, SurveyError
from .engine import Session

BUILTIN_DEMO = Path(__file__).parent / "builtin" / "demo.json"


def resolve_survey_path(value: str, base_dir: Path) -> Path:
    """A config's ``survey.file``: ``builtin:demo`` or a path relative to ``base_dir``."""
    if value == "builtin:demo":
        return BUILTIN_DEMO
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def check_survey(path: Path) -> list[Problem]:
    return compile_file(path)[1]


__all__ = [
    "ANSWER_KINDS",
    "BUILTIN_DEMO",
    "KEYPAD_KINDS",
    "Problem",
    "PromptText",
    "Session",
    "Settings",
    "State",
    "Survey",
    "SurveyError",
    "Transition",
    "check_survey",
    "compile_survey",
    "load_survey",
    "resolve_survey_path",
]
