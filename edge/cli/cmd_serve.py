"""``edgecall serve``: run the box until SIGTERM/SIGINT (Ctrl-C)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from edge.sdnotify import Notifier, Watchdog, watchdog_interval
from edge.server import Box

from ._common import add_config_argument, read_config, setup_logging

log = logging.getLogger("edgecall")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="answer calls on the configured lines")
    add_config_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = read_config(args)
    setup_logging(config.sections["box"]["log_level"])
    box = Box(config)
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    box.start()
    notifier = Notifier()
    watchdog = Watchdog(notifier, watchdog_interval(), box.healthy)
    ready = box.describe()
    log.info("ready: %s", ready)
    notifier.ready(ready)
    watchdog.tick()
    while not stop.wait(min(1.0, watchdog.interval_s or 1.0)):
        watchdog.tick()
    notifier.stopping()
    clean = box.stop()
    log.info("stopped%s", "" if clean else " (calls were cut at the end of the grace period)")
    return 0
