"""``edgecall serve``: run the box until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from edge.clock import Clock
from edge.linkwatch import LinkWatch
from edge.plugins import ServiceContext, service_starters
from edge.privacy import Pseudonymiser
from edge.sdnotify import Notifier, Watchdog, watchdog_interval
from edge.server import CallServer
from edge.store import StoreUnavailable

from ._box import build_lines, survey_source
from ._common import add_config_argument, open_store, read_config, setup_logging

log = logging.getLogger("edgecall")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="answer calls on the configured lines")
    add_config_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = read_config(args)
    setup_logging(config.sections["box"]["log_level"])
    clock = Clock()
    store = open_store(config, clock)
    clock.on_correction = store.record_clock_correction
    surveys = survey_source(config)
    pseudonymiser = Pseudonymiser(bytes.fromhex(config.secrets["pseudonym_key"]))

    def on_sms(sender: str, text: str) -> None:
        try:
            store.record_message(pseudonymiser.pseudonym(sender), text)
        except StoreUnavailable as exc:
            log.error("an SMS could not be stored: %s", exc)
        else:
            log.info("SMS received and stored")

    lines = build_lines(config, clock, on_sms)
    server_settings = config.sections["server"]
    server = CallServer(
        store, surveys, lines, pseudonymiser,
        max_concurrent_calls=server_settings["max_concurrent_calls"],
        min_free_mb=server_settings["min_free_mb"],
        when_busy=server_settings["when_busy"],
    )
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    server.start()
    services: list = []

    def notify(topic: str) -> None:
        """A service or the link watch has news (e.g. "link-up"): tell every service."""
        for service in services:
            handler = getattr(service, "notify", None)
            if handler is not None:
                try:
                    handler(topic)
                except Exception:
                    log.exception("service did not take %s", topic)

    context = ServiceContext(config, store, clock, notify=notify, lines=tuple(lines))
    for name, start in service_starters():
        try:
            services.append(start(context))
        except Exception:
            log.exception("service %s did not start", name)
    services.append(LinkWatch(lambda: notify("link-up")).start())
    notifier = Notifier()
    watchdog = Watchdog(notifier, watchdog_interval(), server.healthy)
    ready = f"survey {surveys.current().id}, lines " + ", ".join(line.name for line in lines)
    log.info("ready: %s", ready)
    notifier.ready(ready)
    watchdog.tick()
    while not stop.wait(min(1.0, watchdog.interval_s or 1.0)):
        watchdog.tick()
    notifier.stopping()
    clean = server.stop(server_settings["shutdown_grace_s"])
    for service in services:
        try:
            service.stop()
        except Exception:
            log.exception("service did not stop cleanly")
    for line in lines:
        close = getattr(line, "close", None)
        if close:
            close()
    store.close()
    log.info("stopped%s", "" if clean else " (calls were cut at the end of the grace period)")
    return 0
