"""``edgecall export --format csv|json [--out FILE]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge.export import export_csv, export_json
from edge.survey import SurveyError, load_survey, resolve_survey_path

from ._common import add_config_argument, open_store, read_config
from ._errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="export calls and answers as CSV or JSON")
    add_config_argument(parser)
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument("--out", type=Path, default=None, help="file to write (default: stdout)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = read_config(args, with_secrets=False)
    store = open_store(config, create=False)
    try:
        if args.format == "csv":
            questions: list[str] = []
            try:
                survey_file = config.sections["survey"]["file"]
                questions = load_survey(resolve_survey_path(survey_file,
                                                            config.base_dir)).questions()
            except SurveyError:
                pass  # columns then follow the order answers arrived in
            text = export_csv(store, questions)
        else:
            text = export_json(store)
    finally:
        store.close()
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
