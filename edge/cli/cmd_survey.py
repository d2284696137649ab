"""``edgecall survey ...``: check a survey, start a new one, import one from Twilio Studio or
XLSForm, fetch its recordings."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from edge.survey import compile_file, compile_survey, resolve_survey_path
from edge.survey._problems import Problem
from edge.words import plural


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("survey", help="work with survey files")
    commands = parser.add_subparsers(dest="survey_command", metavar="SUBCOMMAND")
    check = commands.add_parser("check", help="validate a survey file (or builtin:demo)")
    check.add_argument("file", help="the survey's JSON, or builtin:demo")
    check.set_defaults(func=run_check)

    new = commands.add_parser("new", help="write a commented starter survey")
    new.add_argument("--languages", default="en",
                     help="language codes, comma-separated (default en), e.g. en,ar")
    new.add_argument("--out", type=Path, default=Path("survey.json"),
                     help="file to write (default survey.json; never overwritten)")
    new.set_defaults(func=run_new)

    studio = commands.add_parser("import-studio",
                                 help="convert an exported Twilio Studio flow to a survey")
    studio.add_argument("file", type=Path, help="the flow's JSON (Studio: Export to JSON)")
    _output_options(studio)
    studio.add_argument("--language", default="en",
                        help="language of widgets that name none (default en)")
    studio.add_argument("--offline", action="append", default=[], metavar="WIDGET=fail|queue",
                        help="what make-http-request or send-message do on the box: fail (its "
                        "failed transition; the default) or queue (HQ performs it once online, "
                        "the call goes on as sent); repeatable")
    studio.add_argument("--strict", action="store_true",
                        help="refuse flows with widgets that need Twilio's cloud (functions, Flex, "
                        "HTTP, SMS...; recordings and transfers run on the line)")
    studio.set_defaults(func=run_import_studio)

    xlsform = commands.add_parser("import-xlsform",
                                  help="convert an XLSForm (.xlsx: Kobo, ODK) to a survey")
    xlsform.add_argument("file", type=Path, help="the form's .xlsx file")
    _output_options(xlsform)
    xlsform.set_defaults(func=run_import_xlsform)

    fetch = commands.add_parser("fetch-audio",
                                help="download the recordings a survey names by URL (online)")
    fetch.add_argument("file", type=Path, help="the survey's JSON")
    fetch.set_defaults(func=run_fetch_audio)


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None, help="survey file to write "
                        "(default: stdout); recordings go beside it")
    parser.add_argument("--fetch-audio", action="store_true",
                        help="also download the recordings it plays from URLs (online)")


def run_check(args: argparse.Namespace) -> int:
    path = resolve_survey_path(args.file, Path.cwd())
    survey, problems = compile_file(path)
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


def run_new(args: argparse.Namespace) -> int:
    from edge.survey._starter import starter_survey

    languages = [code.strip() for code in args.languages.split(",") if code.strip()]
    if not languages:
        print("edgecall: --languages needs at least one code, e.g. en", file=sys.stderr)
        return 2
    if args.out.exists():
        print(f"edgecall: {args.out} exists; give another --out", file=sys.stderr)
        return 2
    args.out.write_text(json.dumps(starter_survey(languages), indent=2, ensure_ascii=False)
                        + "\n", encoding="utf-8")
    print(f"wrote {args.out}: a starter survey in {', '.join(languages)}. Its 'note' keys "
          f"explain each part; edit it, then 'edgecall survey check {args.out}'")
    return 0


def run_import_studio(args: argparse.Namespace) -> int:
    from edge.survey.studio import ImportOptions, StudioImportError, import_file, offline_option

    try:
        offline = dict(offline_option(text) for text in args.offline)
    except ValueError as exc:
        print(f"edgecall: --offline: {exc}", file=sys.stderr)
        return 2
    options = ImportOptions(default_language=args.language, strict=args.strict,
                            offline=offline)
    try:
        imported = import_file(args.file, options)
    except StudioImportError as exc:
        return _refused(args.file, exc.problems)
    return _write(args, imported.survey, imported.files, imported.warnings)


def run_import_xlsform(args: argparse.Namespace) -> int:
    from edge.survey.xlsform import XlsFormError, import_xlsform

    try:
        survey, files, warnings = import_xlsform(args.file)
    except XlsFormError as exc:
        return _refused(args.file, exc.problems)
    return _write(args, survey, files, warnings)


def _refused(path: Path, problems: list[Problem]) -> int:
    for problem in problems:
        print(f"{path}: {problem}")
    print(f"{path}: cannot be imported ({plural(len(problems), 'problem')})")
    return 1


def _write(args: argparse.Namespace, survey: dict[str, Any], files: dict[str, bytes],
           warnings: list[Problem]) -> int:
    from edge.survey._fetch import fetch_audio, write_atomically

    for problem in warnings:
        print(f"{args.file}: {problem}", file=sys.stderr)
    text = json.dumps(survey, indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        if files or args.fetch_audio:
            print("edgecall: this survey comes with recordings: give --out so they can be "
                  "written beside it", file=sys.stderr)
            return 2
        sys.stdout.write(text)
        return 0
    args.out.write_text(text, encoding="utf-8")
    for rel, data in files.items():
        write_atomically(args.out.parent / rel, data)
    if args.fetch_audio:
        for audio, outcome in fetch_audio(args.out):
            print(f"{audio}: {outcome}")
    _compiled, problems = compile_survey(survey, args.out.parent, args.out)
    for problem in problems:
        print(f"{args.out}: {problem}")
    print(f"wrote {args.out}; translate what each language lacks, record audio, then "
          f"'edgecall survey check {args.out}'")
    return 1 if any(p.severity == "error" for p in problems) else 0


def run_fetch_audio(args: argparse.Namespace) -> int:
    from edge.survey._fetch import fetch_audio

    try:
        report = fetch_audio(args.file)
    except (OSError, ValueError) as exc:
        print(f"{args.file}: cannot read: {exc}")
        return 1
    for audio, outcome in report:
        print(f"{args.file}: {audio}: {outcome}")
    if not report:
        print(f"{args.file}: no prompt names a url")
    return 1 if any(o.startswith("not ") for _a, o in report) else 0
