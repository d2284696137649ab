"""``edgecall survey check FILE``: every problem of a survey, with its location."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from edge.survey import compile_file, compile_survey
from edge.survey._studio import StudioImportError, import_file
from edge.words import plural


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("survey", help="work with survey files")
    commands = parser.add_subparsers(dest="survey_command", metavar="SUBCOMMAND")
    check = commands.add_parser("check", help="validate a survey file")
    check.add_argument("file", type=Path)
    check.set_defaults(func=run_check)
    studio = commands.add_parser("import-studio",
                                 help="convert an exported Twilio Studio flow to a survey")
    studio.add_argument("file", type=Path, help="the flow's JSON (Studio: Export to JSON)")
    studio.add_argument("--out", type=Path, default=None, help="survey file to write "
                        "(default: stdout)")
    studio.add_argument("--language", default="en",
                        help="language of widgets that name none (default en)")
    studio.set_defaults(func=run_import)


def run_check(args: argparse.Namespace) -> int:
    survey, problems = compile_file(args.file)
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        print(f"{args.file}: {problem}")
    if errors or survey is None:
        print(f"{args.file}: invalid ({plural(len(errors), 'error')}, "
              f"{plural(len(problems) - len(errors), 'warning')})")
        return 1
    print(f"{args.file}: valid: survey {survey.id!r} version {survey.version}, "
          f"{plural(len(survey.states), 'state')}, "
          f"{plural(len(survey.questions()), 'question')}, languages "
          + ", ".join(survey.languages))
    return 0


def run_import(args: argparse.Namespace) -> int:
    try:
        survey = import_file(args.file, args.language)
    except StudioImportError as exc:
        for problem in exc.problems:
            print(f"{args.file}: {problem}")
        print(f"{args.file}: cannot be imported ({plural(len(exc.problems), 'problem')})")
        return 1
    text = json.dumps(survey, indent=2, ensure_ascii=False) + "\n"
    _compiled, problems = compile_survey(survey, args.out.parent if args.out else Path.cwd())
    for problem in problems:
        print(f"imported survey: {problem}", file=sys.stderr)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}; translate the prompts of other languages, record audio, then "
              f"'edgecall survey check {args.out}'")
    return 1 if any(p.severity == "error" for p in problems) else 0
