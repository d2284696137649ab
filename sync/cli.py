"""``edgecall sync --once`` (the ``edgecall hq ...`` commands are in sync/hq/cli.py)."""

from __future__ import annotations

import argparse
import logging
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from edge.words import plural
from edge.words import size as size_words

log = logging.getLogger("edgecall.sync")


def register(subparsers: Any) -> None:
    from edge.cli import add_config_argument

    sync = subparsers.add_parser(
        "sync", help="send the outbox to HQ / Twilio Sync now",
        description="Send the outbox to every configured sink ([hq], [twilio]) now, with a "
        "progress bar and a summary per sink; then fetch the survey pack HQ publishes. "
        "'edgecall serve' does the same every [sync] interval_s. Exit 0 when all is "
        "acknowledged, 1 when a failure remains, 3 when batches are parked (a backlog "
        "remains; fix the cause, then --retry-parked). See docs/sync.md.")
    add_config_argument(sync)
    sync.add_argument("--once", action="store_true",
                      help="drain every configured sink once (required: the service does the "
                           "same every [sync] interval_s)")
    sync.add_argument("--sink", choices=("all", "hq", "twilio"), default="all",
                      help="which sink to drain (default: all)")
    sync.add_argument("--retry-parked", action="store_true",
                      help="put parked batches back in line first (after fixing the cause)")
    sync.add_argument("--max-wait", type=float, default=None, metavar="SECONDS",
                      help="how long to keep retrying transient failures "
                           "(default: [sync] once_max_wait_s, 120)")
    sync.add_argument("--no-pull", action="store_true",
                      help="do not fetch survey packs (default: fetch when [hq] pull_surveys)")
    sync.set_defaults(func=run_sync)


class _Progress:
    """One-line bar on a terminal; nothing per batch otherwise (the summary still prints)."""

    def __init__(self, sink: str, total: int, stream: TextIO) -> None:
        self.sink = sink
        self.total = max(total, 1)
        self.stream = stream
        self.tty = stream.isatty()

    def __call__(self, report: Any, _batch: Any) -> None:
        if not self.tty:
            return
        done = min(report.acked_records, self.total)
        width = 30
        filled = int(width * done / self.total)
        self.stream.write(f"\r{self.sink:7} [{'#' * filled}{'.' * (width - filled)}] "
                          f"{done}/{plural(self.total, 'record')}, "
                          f"{plural(report.acked_batches, 'batch')}")
        self.stream.flush()

    def end(self) -> None:
        if self.tty:
            self.stream.write("\n")


class _RetryLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or "retrying" in record.getMessage()


def _show_retries(stream: TextIO) -> None:
    """While it waits to retry, ``sync --once`` says why and for how long ("hq: cannot
    connect to HQ 127.0.0.1:8750: connection refused; retrying batch ... in 40.0 s"), whatever
    the log level: a technician watching it must not think it hangs."""
    runner_log = logging.getLogger("sync._runner")
    for old in [h for h in runner_log.handlers if any(
            isinstance(f, _RetryLines) for f in h.filters)]:
        runner_log.removeHandler(old)  # one per run, even when called twice in a process
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.INFO)
    handler.addFilter(_RetryLines())
    handler.setFormatter(logging.Formatter("%(message)s"))
    runner_log.addHandler(handler)
    runner_log.setLevel(logging.INFO)
    runner_log.propagate = False  # this handler writes its warnings too, once


def run_sync(args: argparse.Namespace) -> int:
    from edge.cli import UserError, open_store, read_config, setup_logging
    from edge.store import StoreUnavailable, as_unavailable

    from ._setup import sync_settings

    config = read_config(args)
    setup_logging("warning" if config.sections["box"]["log_level"] == "info"
                  else config.sections["box"]["log_level"])
    if not args.once:
        raise UserError("say 'edgecall sync --once' (the service syncs on its own)")
    _show_retries(sys.stderr)
    store = open_store(config)
    settings = sync_settings(config)
    max_wait = settings["once_max_wait_s"] if args.max_wait is None else args.max_wait
    try:
        return _sync(args, config, store.path, max_wait)
    except (sqlite3.Error, StoreUnavailable) as exc:  # a full disk: a sentence, exit 1
        raise UserError(f"sync stopped: {as_unavailable(exc, store.path.parent)}",
                        exit_code=1) from exc
    finally:
        store.close()


def _recordings_line(sink: str, uploads: Any) -> str:
    """One line on the recordings of a run: how many reached HQ, and why the rest wait."""
    line = (f"{sink}: {plural(uploads.confirmed, 'recording')} at HQ "
            f"({size_words(uploads.bytes_sent)} sent)")
    if uploads.parked:
        line += f"; {plural(len(uploads.parked), 'recording')} parked"
    if uploads.reason:
        line += f"; {uploads.reason}"
    return line


def _sync(args: argparse.Namespace, config: Any, db_path: Path, max_wait: float) -> int:
    from edge.cli import UserError

    from ._audio_sync import drain_then_upload, say_twilio_skips
    from ._runner import drain
    from ._setup import build_channels

    channels = build_channels(config, db_path, only=args.sink)
    try:
        if not channels:
            raise UserError("no sink is configured: add an [hq] or [twilio] section")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        status = 0
        for channel in channels:
            ledger = channel.ledger
            if args.retry_parked:
                unparked = plural(ledger.unpark(), "parked batch", "parked batches")
                print(f"{channel.sink.name}: {unparked} back in line")
            progress = _Progress(channel.sink.name, ledger.backlog(), sys.stderr)
            started = time.monotonic()
            report, uploads = drain_then_upload(
                lambda ch=channel, pr=progress: drain(ch.ledger, ch.sink, wait=stop.wait,
                                                      max_wait_s=max_wait, progress=pr),
                channel.audio, stop.is_set)
            progress.end()
            if channel.audio is None:
                say_twilio_skips(ledger)
            took = time.monotonic() - started
            line = (f"{channel.sink.name}: {plural(report.acked_records, 'record')} in "
                    f"{plural(report.acked_batches, 'batch')} acknowledged in {took:.1f} s; "
                    f"backlog {ledger.backlog()}")
            parked = ledger.parked()  # parked in this run or an earlier one (serve's)
            if parked:
                # A backlog that retrying now will not clear: exit 3 (docs/sync.md).
                line += (f"; {plural(parked, 'batch')} parked "
                         "(see 'edgecall status'; --retry-parked after fixing the cause)")
                status = max(status, 3)
            if not report.done:
                line += f"; stopped: {report.last_error or 'interrupted'}"
                status = max(status, 1)
            print(line)
            if uploads is not None and (uploads.chunks or uploads.reason or uploads.parked):
                print(_recordings_line(channel.sink.name, uploads))
        if not args.no_pull and config.section("hq") and config.sections["hq"]["pull_surveys"]:
            from .pull import PullError, puller_for

            try:
                result = puller_for(config)()
                if result:
                    print(f"survey: {result}")
            except PullError as exc:
                print(f"survey pull: {exc}")
                status = max(status, 1)
        return status
    finally:
        for channel in channels:
            channel.ledger.conn.close()
