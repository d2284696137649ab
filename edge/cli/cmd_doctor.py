"""``edgecall doctor [--json] [--dtmf-test]``."""

from __future__ import annotations

import argparse
import json
import sys

from edge.clock import Clock
from edge.doctor import CheckResult, dtmf_test
from edge.doctor.runner import exit_code, run_checks
from edge.server import build_lines
from edge.words import plural

from ._common import add_config_argument, find_config, read_config

MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check the box and say how to fix what is wrong",
        description="Exit 0 when every check passes, 3 when there are only warnings, 1 when "
        "a check fails.")
    add_config_argument(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--dtmf-test", action="store_true",
                        help="also wait for a call and check that every key arrives "
                        "(stop 'edgecall serve' first: the lines must be free)")
    parser.add_argument("--wait", type=float, default=120.0,
                        help="with --dtmf-test: seconds to wait for the call (default 120)")
    parser.add_argument("--key-time", type=float, default=60.0,
                        help="with --dtmf-test: seconds allowed for pressing the keys "
                        "(default 60)")
    parser.set_defaults(func=run)


def show(result: CheckResult) -> None:
    print(f"[{MARKS[result.status]}] {result.name}: {result.message}")
    if result.fix:
        print(f"        -> {result.fix}")


def run(args: argparse.Namespace) -> int:
    path = find_config(args.config)
    results = run_checks(path)
    if args.dtmf_test and all(r.status != "fail" for r in results if r.name in ("config",
                                                                              "lines")):
        lines = build_lines(read_config(args), Clock())
        announce = (lambda text: print(text, file=sys.stderr)) if args.json else print
        results.append(dtmf_test(lines, args.wait, args.key_time, announce=announce))
        for line in lines:
            close = getattr(line, "close", None)
            if close:
                close()
    if args.json:
        print(json.dumps({"exit_code": exit_code(results),
                          "checks": [r.as_dict() for r in results]}, indent=2))
    else:
        for result in results:
            show(result)
        failed = sum(r.status == "fail" for r in results)
        warned = sum(r.status == "warn" for r in results)
        print(f"\n{plural(len(results), 'check')}: {failed} failed, "
              f"{plural(warned, 'warning')}")
    return exit_code(results)
