"""``edgecall campaign import|list|status|pause|resume|cancel``: outbound campaigns."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from edge.config import Config
from edge.outbound import CampaignError, import_campaign
from edge.privacy import Pseudonymiser
from edge.survey import SurveyError, load_survey, resolve_survey_path
from edge.words import plural

from ._common import add_config_argument, open_store, read_config
from ._errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "campaign", help="outbound campaigns: import numbers, list, pause, resume, cancel",
        description="Call a list of numbers and run a survey with each who answers. Calls "
        "are placed by 'edgecall serve' when [outbound] enabled = true, within its calling "
        "hours and caps (docs/callbacks.md).")
    add_config_argument(parser)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    imp = verbs.add_parser("import", help="queue the numbers of a CSV file as a campaign")
    imp.add_argument("file", type=Path, help="CSV with a 'number' (or phone/msisdn) column; "
                     "read once, not kept")
    imp.add_argument("--name", required=True, help="the campaign's name (unique)")
    imp.add_argument("--survey", default=None,
                     help="survey file (or builtin:demo) callers answer; default: the box's "
                     "current survey")
    imp.set_defaults(func=_import)
    listing = verbs.add_parser("list", help="every campaign and its progress")
    listing.set_defaults(func=_list)
    for verb, helptext in (("status", "one campaign's progress"),
                           ("pause", "stop placing the campaign's calls for now"),
                           ("resume", "place a paused campaign's calls again"),
                           ("cancel", "drop every call of the campaign not yet placed")):
        sub = verbs.add_parser(verb, help=helptext)
        sub.add_argument("name", help="the campaign's name")
        sub.set_defaults(func=_change if verb != "status" else _status)


def _outbound(config: Config) -> dict[str, Any]:
    return config.section("outbound") or {"country_code": "", "dedup_window_h": 24.0,
                                          "enabled": False}


def _import(args: argparse.Namespace) -> int:
    config = read_config(args)
    survey = None
    if args.survey:
        path = resolve_survey_path(args.survey, Path.cwd())
        try:
            load_survey(path)
        except SurveyError as exc:
            raise UserError(f"--survey: {exc}") from exc
        survey = str(path.resolve())
    settings = _outbound(config)
    store = open_store(config)
    try:
        report = import_campaign(
            store, Pseudonymiser(bytes.fromhex(config.secrets["pseudonym_key"])), args.file,
            args.name, survey, settings["country_code"],
            dedup_window_s=settings["dedup_window_h"] * 3600)
    except CampaignError as exc:
        raise UserError(str(exc)) from exc
    finally:
        store.close()
    print(f"campaign {args.name!r}: {plural(report.queued, 'number')} queued, "
          f"{plural(report.duplicates, 'duplicate')} and "
          f"{report.opted_out} opted out left out, {len(report.invalid)} not valid")
    for row, reason in report.invalid[:20]:
        print(f"  row {row}: {reason}")
    if len(report.invalid) > 20:
        print(f"  ... and {plural(len(report.invalid) - 20, 'more row')}")
    if not settings["enabled"]:
        print("note: [outbound] enabled is false: 'edgecall serve' will not place these calls")
    return 0


def _campaigns(args: argparse.Namespace) -> list[dict[str, Any]]:
    config = read_config(args, with_secrets=False)
    store = open_store(config, create=False)
    try:
        return store.reads.campaigns()
    finally:
        store.close()


def _progress(row: dict[str, Any]) -> str:
    jobs = row["jobs"]
    done = jobs.get("done", 0)
    waiting = jobs.get("pending", 0) + jobs.get("dialling", 0) + jobs.get("paused", 0)
    failed = jobs.get("failed", 0) + jobs.get("expired", 0)
    return (f"{row['name']}: {row['status']}, {done} of {row['numbers']} reached, "
            f"{waiting} waiting, {failed} not reached, {jobs.get('cancelled', 0)} cancelled")


def _list(args: argparse.Namespace) -> int:
    rows = _campaigns(args)
    if not rows:
        print("no campaigns; import one with 'edgecall campaign import FILE.csv --name NAME'")
    for row in rows:
        print(_progress(row))
    return 0


def _find(args: argparse.Namespace) -> dict[str, Any]:
    for row in _campaigns(args):
        if row["name"] == args.name:
            return row
    raise UserError(f"no campaign named {args.name!r} (see 'edgecall campaign list')")


def _status(args: argparse.Namespace) -> int:
    row = _find(args)
    print(_progress(row))
    print(f"  imported {row['created_utc']}; left out at import: {row['duplicates']} "
          f"duplicates, {row['opted_out']} opted out, {row['invalid']} not valid")
    return 0


def _change(args: argparse.Namespace) -> int:
    row = _find(args)
    target = {"pause": "paused", "resume": "active", "cancel": "cancelled"}[args.verb]
    if row["status"] == "cancelled":
        raise UserError(f"campaign {args.name!r} is cancelled")
    config = read_config(args, with_secrets=False)
    store = open_store(config, create=False)
    try:
        changed = store.outbound.set_campaign_status(row["id"], target)
    finally:
        store.close()
    print(f"campaign {args.name!r} {target}: {plural(changed, 'call')} changed")
    return 0
