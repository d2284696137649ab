"""``edgecall sync --once``, ``edgecall hq serve`` and ``edgecall hq export``."""

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

    hq = subparsers.add_parser(
        "hq", help="the reference HQ receiver",
        description="The reference HQ receiver of sync/PROTOCOL.md: 'serve' receives batches "
        "from boxes, 'export' writes what was received, 'publish' offers a survey to the "
        "boxes. See docs/sync.md.")
    hq_sub = hq.add_subparsers(dest="hq_command", metavar="ACTION")
    serve = hq_sub.add_parser(
        "serve", help="receive batches from boxes (sync/PROTOCOL.md)",
        description="Receive signed batches from boxes at http(s)://HOST:PORT/v1/batches and "
        "store every record once in --db. Runs until Ctrl-C or SIGTERM.")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default: 127.0.0.1, this machine only; "
                            "0.0.0.0 for every interface)")
    serve.add_argument("--port", type=int, default=8750, help="TCP port (default: 8750)")
    serve.add_argument("--db", type=Path, default=Path("hq.db"),
                       help="SQLite file of received records, created when missing "
                            "(default: ./hq.db)")
    serve.add_argument("--boxes", type=Path, required=True,
                       help="TOML file with a [boxes] table: box id = that box's hq_secret "
                            "(required)")
    serve.add_argument("--window", type=float, default=300.0, metavar="SECONDS",
                       help="accepted clock difference between a box and HQ; replays inside "
                            "it are refused by signature (default: 300)")
    serve.add_argument("--surveys", type=Path, default=None, metavar="DIR",
                       help="directory of survey packs written by 'edgecall hq publish' "
                            "(default: none offered)")
    serve.add_argument("--tls-cert", type=Path, default=None, metavar="PEM",
                       help="certificate chain to serve HTTPS itself (default: plain HTTP, "
                            "for use behind a TLS proxy)")
    serve.add_argument("--tls-key", type=Path, default=None, metavar="PEM",
                       help="private key of --tls-cert (default: read from the --tls-cert "
                            "file)")
    serve.set_defaults(func=run_hq_serve)
    export = hq_sub.add_parser(
        "export", help="records received, as CSV or JSON",
        description="Write the records HQ received, the latest version of each (calls with "
        "their disposition): CSV with the record's body keys as columns, or JSON.")
    export.add_argument("--db", type=Path, default=Path("hq.db"),
                        help="the database 'hq serve' writes (default: ./hq.db)")
    export.add_argument("--format", choices=("csv", "json"), default="csv",
                        help="output format (default: csv)")
    export.add_argument("--kind", choices=("call", "answer", "clock", "results", "request"),
                        default=None,
                        help="only records of this kind (default: every kind)")
    export.add_argument("--all-versions", action="store_true",
                        help="every version of each record (default: the latest)")
    export.add_argument("--out", "-o", type=Path, default=None,
                        help="file to write (default: standard output)")
    export.set_defaults(func=run_hq_export)
    publish = hq_sub.add_parser(
        "publish", help="make a survey (with its audio) the pack boxes pull",
        description="Copy a survey and the files beside it (audio) into the packs directory "
        "as <id>/<version>/ and make it current.json; boxes fetch it after their next "
        "successful sync (with [hq] pull_surveys on).")
    publish.add_argument("survey", type=Path,
                         help="survey JSON file; the files beside it go too")
    publish.add_argument("--surveys", type=Path, required=True, metavar="DIR",
                         help="the directory 'hq serve --surveys' offers (required; created "
                              "when missing)")
    publish.set_defaults(func=run_hq_publish)
    hq.set_defaults(func=lambda _args: hq.print_help() or 2)


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


def run_sync(args: argparse.Namespace) -> int:
    from edge.cli import UserError, open_store, read_config, setup_logging
    from edge.store import StoreUnavailable, as_unavailable

    from ._setup import sync_settings

    config = read_config(args)
    setup_logging("warning" if config.sections["box"]["log_level"] == "info"
                  else config.sections["box"]["log_level"])
    if not args.once:
        raise UserError("say 'edgecall sync --once' (the service syncs on its own)")
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


def _sync(args: argparse.Namespace, config: Any, db_path: Path, max_wait: float) -> int:
    from edge.cli import UserError

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
            report = drain(ledger, channel.sink, wait=stop.wait, max_wait_s=max_wait,
                           progress=progress)
            progress.end()
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


def run_hq_serve(args: argparse.Namespace) -> int:
    from edge.cli import UserError, setup_logging

    from .hq import HqDb, HqServer, HqSettings, load_box_secrets

    setup_logging("info")
    try:
        secrets = load_box_secrets(args.boxes)
    except (OSError, ValueError) as exc:
        raise UserError(f"{args.boxes}: {exc}") from exc
    if not secrets:
        raise UserError(f"{args.boxes}: no [boxes] entries (box id = its hq_secret)")
    db = HqDb(args.db)
    server = HqServer((args.host, args.port), db,
                      HqSettings(secrets, window_s=args.window, surveys_dir=args.surveys))
    scheme = "http"
    if args.tls_cert:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    host, port = server.server_address[:2]
    print(f"HQ listening on {scheme}://{host}:{port}/v1/batches ({plural(len(secrets), 'box')}, "
          f"db {args.db})", flush=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()
    db.close()
    return 0


def run_hq_export(args: argparse.Namespace) -> int:
    from edge.cli import UserError

    from .hq import HqDb, export_records

    if not args.db.is_file():
        raise UserError(f"{args.db}: no HQ database")
    db = HqDb(args.db)
    try:
        count = export_records(db, args.format, args.out, args.kind, args.all_versions)
    finally:
        db.close()
    if args.out is not None:
        print(f"{plural(count, 'record')} written to {args.out}", file=sys.stderr)
    return 0


def run_hq_publish(args: argparse.Namespace) -> int:
    from edge.cli import UserError
    from edge.survey import SurveyError

    from .hq import publish_pack

    args.surveys.mkdir(parents=True, exist_ok=True)
    try:
        manifest = publish_pack(args.surveys, args.survey)
    except (SurveyError, ValueError, OSError) as exc:
        raise UserError(str(exc)) from exc
    print(f"published {manifest['id']} version {manifest['version']} "
          f"({plural(len(manifest['files']), 'file')})")
    return 0
