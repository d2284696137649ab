"""``edgecall hq ...``: serve, export, publish, boxes and their keys, the Twilio import.
Every command reads hq.toml (``--config``); ``--db`` names a database instead."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from edge.words import plural

from ._open import load
from ._open import safe_url as _safe
from ._open import storage as _storage


def _common(parser: argparse.ArgumentParser, db: bool = True) -> None:
    parser.add_argument("--config", "-c", type=Path, default=None, metavar="HQ_TOML",
                        help="HQ config file (default: $EDGECALL_HQ_CONFIG, ./hq.toml, "
                             "/etc/edgecall/hq.toml, else every default)")
    if db:
        parser.add_argument("--db", default=None, metavar="DATABASE",
                            help="SQLite file or postgresql:// URL (default: [hq] database "
                                 "of the config, ./hq.db)")


def register(subparsers: Any) -> None:
    hq = subparsers.add_parser(
        "hq", help="the HQ receiver and its tools",
        description="HQ for a fleet of boxes (sync/PROTOCOL.md): 'serve' receives batches "
        "and heartbeats, 'export' writes what analysts use, 'add-box' enrols a box, "
        "'boxes' shows the fleet's health. See docs/hq.md.")
    sub = hq.add_subparsers(dest="hq_command", metavar="ACTION")

    init = sub.add_parser("init", help="write a commented hq.toml",
                          description="Write DIR/hq.toml with every key commented and its "
                          "default, ready to edit.")
    init.add_argument("dir", nargs="?", type=Path, default=Path("."),
                      help="where to write hq.toml (default: .)")
    init.add_argument("--database", default=None,
                      help="[hq] database to write (default: hq.db beside hq.toml; in "
                           "/etc/edgecall, the unit's, /var/lib/edgecall-hq/hq.db: the unit "
                           "writes only there)")
    init.add_argument("--audio-dir", default=None,
                      help="[hq] audio_dir to write: where recordings are kept (default: "
                           "audio beside hq.toml; in /etc/edgecall /var/lib/edgecall-hq/audio)")
    init.add_argument("--force", action="store_true", help="overwrite an existing hq.toml")
    init.set_defaults(func=run_init)

    serve = sub.add_parser(
        "serve", help="receive batches and heartbeats from boxes",
        description="Receive signed batches at http(s)://HOST:PORT/v1/batches and store every "
        "record once. Runs gunicorn with [hq] workers x threads (or one process with "
        "--server simple) until Ctrl-C or SIGTERM.")
    _common(serve)
    serve.add_argument("--host", default=None,
                       help="address to listen on (default: [hq] listen, 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None,
                       help="TCP port (default: [hq] listen, 8750; 0: any free port)")
    serve.add_argument("--workers", type=int, default=None,
                       help="worker processes (default: [hq] workers, 4)")
    serve.add_argument("--server", choices=("gunicorn", "simple"), default="gunicorn",
                       help="gunicorn (default), or simple: one process, stdlib threads "
                            "(tests, a laptop)")
    serve.add_argument("--boxes", type=Path, default=None,
                       help="also enrol the boxes of a TOML [boxes] table (box id = its "
                            "hq_secret); boxes already known keep their key (default: none)")
    serve.add_argument("--window", type=float, default=None, metavar="SECONDS",
                       help="accepted clock difference between a box and HQ; replays inside "
                            "it are refused by signature (default: [hq] window_s, 300)")
    serve.add_argument("--surveys", type=Path, default=None, metavar="DIR",
                       help="directory of survey packs written by 'edgecall hq publish' "
                            "(default: [hq] surveys, none offered)")
    serve.add_argument("--audio-dir", type=Path, default=None, metavar="DIR",
                       help="where uploaded recordings are kept (default: [hq] audio_dir, "
                            "audio beside hq.toml)")
    serve.add_argument("--tls-cert", type=Path, default=None, metavar="PEM",
                       help="certificate chain to serve HTTPS itself (default: [hq] "
                            "tls_cert; plain HTTP, for use behind a TLS proxy)")
    serve.add_argument("--tls-key", type=Path, default=None, metavar="PEM",
                       help="private key of --tls-cert (default: read from the --tls-cert "
                            "file)")
    serve.set_defaults(func=run_serve)

    export = sub.add_parser(
        "export", help="calls (wide CSV per survey), callbacks and records",
        description="Write what boxes sent: 'calls' is the box's own export (one row per "
        "call, one column per question, the same columns and values as 'edgecall export'), "
        "one CSV per survey; 'jobs' and 'attempts' the calls boxes placed (callbacks, "
        "campaigns); 'callbacks' raw numbers boxes sent; 'records' every record; "
        "'requests' the requests boxes queued and what came of them; 'audio' the recorded "
        "answers (file and link; in 'calls' a recorded answer is its link).")
    _common(export)
    export.add_argument("--table", choices=("calls", "jobs", "attempts", "callbacks",
                                            "records", "requests", "audio"), default="calls",
                        help="what to write (default: calls); 'audio': one row per recorded "
                             "answer with its file and link (with --out DIR the files are "
                             "copied into DIR)")
    export.add_argument("--audio-dir", type=Path, default=None, metavar="DIR",
                        help="with --table audio: where HQ keeps recordings (default: [hq] "
                             "audio_dir)")
    export.add_argument("--link-base", default=None, metavar="URL",
                        help="HQ's address in the links to recordings, e.g. "
                             "https://hq.example.org (default: from [hq] url)")
    export.add_argument("--format", choices=("csv", "json"), default="csv",
                        help="output format (default: csv)")
    export.add_argument("--survey", default=None,
                        help="calls of this survey id only (default: every survey; CSV of "
                             "several surveys needs --out DIR)")
    export.add_argument("--since", default=None, metavar="DATE",
                        help="only from this UTC date or time on, e.g. 2026-11-01 "
                             "(default: everything)")
    export.add_argument("--box", default=None, help="only this box (default: every box)")
    export.add_argument("--kind", default=None,
                        help="with --table records: only this kind (call, answer, clock, "
                             "job, attempt; default: every kind)")
    export.add_argument("--all-versions", action="store_true",
                        help="with --table records: every version (default: the latest)")
    export.add_argument("--out", "-o", type=Path, default=None,
                        help="file (or directory, one CSV per survey) to write (default: "
                             "standard output)")
    export.set_defaults(func=run_export)

    publish = sub.add_parser(
        "publish", help="make a survey (with its audio) the pack boxes pull",
        description="Copy a survey and the files beside it (audio) into the packs directory "
        "as <id>/<version>/ and make it current.json; boxes fetch it after their next "
        "successful sync (with [hq] pull_surveys on).")
    publish.add_argument("survey", type=Path, help="survey JSON file; the files beside it go too")
    publish.add_argument("--surveys", type=Path, required=True, metavar="DIR",
                         help="the directory 'hq serve --surveys' offers (required; created "
                              "when missing)")
    publish.set_defaults(func=run_publish)

    add = sub.add_parser("add-box", help="enrol a box: create its key, print its token",
                         description="Create box NAME with a fresh key and print the one "
                         "token to give its technician: 'edgecall enrol TOKEN' on the box "
                         "writes its [hq] section and hq_secret.")
    _common(add)
    add.add_argument("name", help="the box id (letters, digits, - and _, up to 32)")
    add.add_argument("--url", default=None,
                     help="HQ's batch URL as boxes reach it (default: [hq] url)")
    add.set_defaults(func=run_add_box)

    rotate = sub.add_parser("rotate-key", help="give a box a new key (prints its token)",
                            description="Give box NAME a new key and print its token. The "
                            "old key stays valid until the box first signs with the new one, "
                            "or [hq] rotation_grace_days pass: nothing in flight is refused.")
    _common(rotate)
    rotate.add_argument("name", help="the box id")
    rotate.add_argument("--url", default=None,
                        help="HQ's batch URL as boxes reach it (default: [hq] url)")
    rotate.set_defaults(func=run_rotate_key)

    remove = sub.add_parser("remove-box", help="refuse a box from now on (its records stay)",
                            description="Delete box NAME's key: HQ refuses it from now on; "
                            "the records it sent stay.")
    _common(remove)
    remove.add_argument("name", help="the box id")
    remove.set_defaults(func=run_remove_box)

    boxes = sub.add_parser("boxes", help="the fleet: last seen, backlog, alerts",
                           description="Every enrolled box: when HQ last heard from it, its "
                           "backlog, clock, disk and lines from its last heartbeat, and "
                           "alerts ([alerts] of hq.toml).")
    _common(boxes)
    boxes.add_argument("--json", action="store_true", help="JSON instead of a table")
    boxes.set_defaults(func=run_boxes)

    twilio = sub.add_parser(
        "import-twilio", help="store the batches boxes wrote into Twilio Sync Maps",
        description="Read the items of the [twilio] maps, decode each batch, store its "
        "records exactly once (as 'serve' does) and, with --delete, delete the items "
        "stored (a Sync Service holds a limited number of items).")
    _common(twilio)
    twilio.add_argument("--delete", action="store_true",
                        help="delete each item once its batch is stored (default: keep)")
    twilio.set_defaults(func=run_import_twilio)

    from .perform.cli import register as register_perform

    register_perform(sub, _common)  # perform, requests [retry]

    hq.set_defaults(func=lambda _args: hq.print_help() or 2)


# -- shared -----------------------------------------------------------------------------------
def _now() -> str:
    from edge.clock import format_utc

    return format_utc(datetime.now(UTC).timestamp())


# -- commands ---------------------------------------------------------------------------------
def run_init(args: argparse.Namespace) -> int:
    from edge.cli import UserError

    from ._config import render
    from ._unit_paths import init_defaults

    target = args.dir / "hq.toml"
    if target.exists() and not args.force:
        raise UserError(f"{target} exists; use --force to overwrite it")
    args.dir.mkdir(parents=True, exist_ok=True)
    database, audio_dir = init_defaults(args.dir)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(render({"hq": {"database": args.database or database,
                                    "audio_dir": args.audio_dir or audio_dir,
                                    "fleet_password": secrets.token_urlsafe(9)}}))
    print(f"wrote {target}; next: edgecall hq add-box NAME -c {target}")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from edge.cli import UserError, setup_logging

    from ._app import make_app
    from ._boxes_file import load_box_secrets
    from ._unit_paths import unwritable
    from .storage import open_storage

    setup_logging("info")
    config = load(args)
    settings = config.settings()
    if args.window is not None:
        settings.window_s = args.window
    if args.surveys is not None:
        settings.surveys_dir = args.surveys
    if args.audio_dir is not None:
        settings.audio_dir = args.audio_dir
    host, port = config.listen()
    host = args.host or host
    port = port if args.port is None else args.port
    database = args.db or config.database
    for key, path in (("database", None if "://" in database else Path(database)),
                      ("audio_dir", settings.audio_dir)):
        if path is not None and (problem := unwritable(key, path)):
            raise UserError(problem)
    storage = _storage(args, config)  # creates the schema once, before any worker starts
    try:
        listed = config.resolve(config.hq["boxes_file"])
        for boxes_file in (Path(listed) if listed else None, args.boxes):
            if boxes_file is None:
                continue
            try:
                storage.import_boxes(load_box_secrets(boxes_file), _now())
            except (OSError, ValueError) as exc:
                raise UserError(f"{boxes_file}: {exc}") from exc
        count = len(storage.boxes())
    finally:
        storage.close()
    if not count:
        raise UserError("no box is enrolled: 'edgecall hq add-box NAME' (or --boxes FILE)")
    cert = str(args.tls_cert or config.resolve(config.hq["tls_cert"]) or "")
    key = str(args.tls_key or config.resolve(config.hq["tls_key"]) or "")
    scheme = "https" if cert else "http"

    def ready(address: str) -> None:
        print(f"HQ listening on {scheme}://{address}/v1/batches ({plural(count, 'box')}, "
              f"db {_safe(database)})", flush=True)

    def factory() -> Any:
        return make_app(open_storage(database), settings)

    performer = None
    if config.requests["perform_in_serve"]:
        from .perform.cli import start_beside_serve

        performer = start_beside_serve(config.path, database)
    try:
        if args.server == "simple":
            return _serve_simple(factory, host, port, cert, key, ready)
        from ._gunicorn import HqApplication, options

        workers = args.workers or config.hq["workers"]
        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        HqApplication(factory, options(bind, workers, config.hq["threads"],
                                       config.hq["max_connections"], ready, cert, key)).run()
        return 0
    finally:
        if performer is not None:
            from .perform.cli import stop_beside_serve

            stop_beside_serve(performer, config.requests["timeout_s"] + 10)


def _serve_simple(factory: Any, host: str, port: int, cert: str, key: str,
                  ready: Any) -> int:
    from ._devserver import DevServer

    server = DevServer(factory(), host, port)
    if cert:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key or None)
        server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    server.start()
    ready(f"{server.host}:{server.port}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    server.stop()
    return 0


def run_export(args: argparse.Namespace) -> int:
    from edge.cli import UserError

    from .._hq import base_url
    from ._export import export_audio, export_calls, export_records, export_table

    config = load(args)
    storage = _storage(args, config, must_exist=True)
    settings = config.settings()
    if args.audio_dir is not None:
        settings.audio_dir = args.audio_dir
    surveys_dir = settings.surveys_dir
    link_base = args.link_base or base_url(settings.public_url)
    try:
        if args.table == "audio":
            done = plural(export_audio(storage, args.format, args.out, settings.audio_dir,
                                       link_base, args.since, args.box), "recording")
        elif args.table == "calls":
            try:
                counts = export_calls(storage, args.format, args.out, args.survey, args.since,
                                      args.box, surveys_dir, link_base)
            except ValueError as exc:
                raise UserError(str(exc)) from exc
            what = ", ".join(f"{survey}: {plural(n, 'call')}" for survey, n in counts.items())
            done = what or plural(0, "call")
        elif args.table == "records":
            done = plural(export_records(storage, args.format, args.out, args.kind,
                                         args.all_versions, args.box, args.since), "record")
        else:
            done = plural(export_table(storage, args.table, args.format, args.out,
                                       args.since, args.box), "row")
    finally:
        storage.close()
    if args.out is not None:
        print(f"{done} written to {args.out}", file=sys.stderr)
    return 0


def run_publish(args: argparse.Namespace) -> int:
    from edge.cli import UserError
    from edge.survey import SurveyError

    from ._publish import publish_pack

    args.surveys.mkdir(parents=True, exist_ok=True)
    try:
        manifest = publish_pack(args.surveys, args.survey)
    except (SurveyError, ValueError, OSError) as exc:
        raise UserError(str(exc)) from exc
    print(f"published {manifest['id']} version {manifest['version']} "
          f"({plural(len(manifest['files']), 'file')})")
    return 0


def _box_name(name: str) -> str:
    from edge.cli import UserError

    from ._limits import BOX_ID

    if not BOX_ID.fullmatch(name):
        raise UserError(f"{name!r}: a box id is 1-32 letters, digits, '-' or '_'")
    return name


def _token(box: str, url: str, secret: str) -> str:
    from .._enrol import encode_token

    return encode_token(box, url, secret)


def run_add_box(args: argparse.Namespace) -> int:
    from edge.cli import UserError

    config = load(args)
    box = _box_name(args.name)
    secret = secrets.token_urlsafe(24)
    storage = _storage(args, config)
    try:
        if not storage.add_box(box, secret, _now()):
            raise UserError(f"box {box} exists already: 'edgecall hq rotate-key {box}' gives "
                            "it a new key and token")
    finally:
        storage.close()
    print(f"box {box} enrolled. On the box, as root (this token holds its key: give it to "
          "that box's technician only):")
    print(f"  edgecall enrol {_token(box, args.url or config.hq['url'], secret)}")
    return 0


def run_rotate_key(args: argparse.Namespace) -> int:
    from edge.cli import UserError

    config = load(args)
    box = _box_name(args.name)
    secret = secrets.token_urlsafe(24)
    grace = datetime.now(UTC) + timedelta(days=config.hq["rotation_grace_days"])
    until = grace.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    storage = _storage(args, config)
    try:
        if not storage.rotate_key(box, secret, until):
            raise UserError(f"no box {box}: 'edgecall hq add-box {box}' enrols it")
    finally:
        storage.close()
    print(f"box {box} has a new key; its old one is accepted until it signs with the new one "
          f"or {until[:16].replace('T', ' ')} UTC. On the box:")
    print(f"  edgecall enrol {_token(box, args.url or config.hq['url'], secret)}")
    return 0


def run_remove_box(args: argparse.Namespace) -> int:
    from edge.cli import UserError

    config = load(args)
    storage = _storage(args, config)
    try:
        if not storage.remove_box(args.name):
            raise UserError(f"no box {args.name}")
    finally:
        storage.close()
    print(f"box {args.name} removed: HQ refuses it from now on; its records stay")
    return 0


def run_boxes(args: argparse.Namespace) -> int:
    import json

    from ._fleet import ago, fleet

    config = load(args)
    storage = _storage(args, config)
    try:
        rows = fleet(storage.boxes(), datetime.now(UTC), config.settings().alerts)
    finally:
        storage.close()
    if args.json:
        print(json.dumps([r.to_json() for r in rows], indent=1))
        return 0
    if not rows:
        print("no box enrolled: edgecall hq add-box NAME")
        return 0
    print(f"{'box':<20} {'last seen':<14} {'backlog':>8}  alerts")
    for r in rows:
        backlog = "-" if r.backlog is None else str(r.backlog)
        print(f"{r.box:<20} {ago(r.silent_s):<14} {backlog:>8}  {'; '.join(r.alerts) or 'ok'}")
    alerting = sum(1 for r in rows if r.alerts)
    print(f"{plural(len(rows), 'box')}, {alerting} with alerts")
    return 3 if alerting else 0


def run_import_twilio(args: argparse.Namespace) -> int:
    from edge.cli import UserError, setup_logging

    from ._twilio_import import TwilioImportError, import_twilio

    setup_logging("warning")
    config = load(args)
    twilio = config.twilio
    if not (twilio["service_sid"] and twilio["api_key_sid"] and twilio["api_key_secret"]):
        raise UserError("[twilio] service_sid, api_key_sid and api_key_secret are needed in "
                        "hq.toml")
    storage = _storage(args, config)
    try:
        report = import_twilio(storage, twilio["base_url"], twilio["service_sid"],
                               twilio["api_key_sid"], twilio["api_key_secret"],
                               twilio["maps"], delete=args.delete,
                               limits=config.settings().limits)
    except TwilioImportError as exc:
        raise UserError(str(exc)) from exc
    finally:
        storage.close()
    print(f"{plural(report.items, 'item')} read: {plural(report.stored, 'batch')} stored, "
          f"{report.duplicates} already there, {report.refused} refused, "
          f"{report.deleted} deleted; {plural(report.new_records, 'record')} new")
    for problem in report.problems[:20]:
        print(f"  {problem}")
    return 3 if report.refused else 0
