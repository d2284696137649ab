"""``edgecall demo``: a complete box with simulated callers, no hardware needed."""

from __future__ import annotations

import argparse
from pathlib import Path

from edge.demo import DemoOptions, run_demo, run_interactive
from edge.demo._networks import available
from edge.survey import BUILTIN_DEMO

from ._common import setup_logging
from ._errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run a demo box with simulated callers")
    parser.add_argument("--dir", type=Path, default=Path("edgecall-demo"),
                        help="where the demo keeps its database and exports "
                        "(default: ./edgecall-demo)")
    parser.add_argument("--calls", type=int, default=24, help="simulated calls (default 24)")
    parser.add_argument("--lines", type=int, default=4, help="concurrent calls (default 4)")
    parser.add_argument("--speed", type=float, default=25.0,
                        help="times faster than real time (default 25)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--survey", type=Path, default=BUILTIN_DEMO,
                        help="survey file (default: the bundled demo survey)")
    parser.add_argument("--via", default=None,
                        help="where callers come from: 'modem' (simulated GSM modules behind "
                        "the real modem driver; the default when installed) or 'simulated'")
    parser.add_argument("--interactive", action="store_true",
                        help="be the caller yourself: prompts are printed, you type keys")
    parser.add_argument("--quiet-voice", action="store_true",
                        help="with --interactive: do not speak prompts with espeak-ng")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    setup_logging("error")
    if args.calls < 1 or args.lines < 1 or args.speed <= 0:
        raise UserError("--calls and --lines must be at least 1 and --speed above 0")
    via = args.via or ("modem" if "modem" in available() else "simulated")
    if via != "simulated" and via not in available():
        raise UserError(f"--via {via}: not installed; available: simulated, "
                        + ", ".join(available()))
    options = DemoOptions(args.dir, args.calls, args.lines, args.speed, args.seed, args.survey,
                          via)
    try:
        if args.interactive:
            options.speed = 1.0
            run_interactive(options, speak=not args.quiet_voice)
        else:
            run_demo(options)
    except OSError as exc:
        raise UserError(f"demo directory {args.dir}: {exc.strerror or exc}") from exc
    return 0
