"""``edgecall survey check FILE``: every problem of a survey, with its location."""

from __future__ import annotations

import argparse
from pathlib import Path

from edge.survey import compile_file


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("survey", help="work with survey files")
    commands = parser.add_subparsers(dest="survey_command", metavar="SUBCOMMAND")
    check = commands.add_parser("check", help="validate a survey file")
    check.add_argument("file", type=Path)
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    survey, problems = compile_file(args.file)
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        print(f"{args.file}: {problem}")
    if errors or survey is None:
        print(f"{args.file}: invalid ({len(errors)} errors, {len(problems) - len(errors)} "
              "warnings)")
        return 1
    print(f"{args.file}: valid: survey {survey.id!r} version {survey.version}, "
          f"{len(survey.states)} states, {len(survey.questions())} questions, languages "
          + ", ".join(survey.languages))
    return 0
