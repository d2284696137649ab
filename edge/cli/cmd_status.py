"""``edgecall status``: calls today and this week, dispositions, outbox backlog."""

from __future__ import annotations

import argparse
import json

from edge.outbound import OutboundPolicy, outbound_lines, policy_from_settings
from edge.plugins import status_providers
from edge.stats import Summary, day_and_week_starts, summarise
from edge.words import plural

from ._common import add_config_argument, open_store, read_config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="calls, dispositions and sync backlog")
    add_config_argument(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def _line(label: str, summary: Summary) -> str:
    parts = ", ".join(f"{k} {v}" for k, v in sorted(summary.dispositions.items()))
    completion = (f", {summary.completion:.0%} complete" if summary.completion is not None
                  else "")
    running = f", {summary.in_progress} in progress" if summary.in_progress else ""
    return (f"{label}: {plural(summary.calls, 'call')}{completion}{running}"
            + (f" ({parts})" if parts else ""))


def run(args: argparse.Namespace) -> int:
    config = read_config(args, with_secrets=False)
    store = open_store(config, read_only=True)  # creates nothing; works on a full disk
    try:
        today_start, week_start = day_and_week_starts()
        today, week = summarise(store, today_start), summarise(store, week_start)
        backlog = store.reads.backlog()
        outbound = config.section("outbound")
        policy = policy_from_settings(outbound) if outbound else OutboundPolicy()
        extra: list[tuple[str, str]] = list(outbound_lines(store, policy))
        for provider in status_providers():
            try:
                extra.extend(provider(store))
            except Exception as exc:  # a plug-in's fault must not hide the core figures
                extra.append(("plug-in error", str(exc)))
    finally:
        store.close()
    if args.json:
        print(json.dumps({
            "box": config.box_id, "data_dir": str(config.data_dir),
            "today": {"calls": today.calls, "dispositions": today.dispositions,
                      "in_progress": today.in_progress},
            "week": {"calls": week.calls, "dispositions": week.dispositions},
            "outbox_backlog": backlog, "extra": dict(extra),
        }, indent=2))
        return 0
    print(f"box {config.box_id} (data in {config.data_dir})")
    print(_line("today", today))
    print(_line("last 7 days", week))
    print(f"outbox backlog: {plural(backlog, 'record')} not yet acknowledged by HQ")
    for label, value in extra:
        print(f"{label}: {value}")
    return 0
