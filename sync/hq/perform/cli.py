"""``edgecall hq perform`` and ``edgecall hq requests [retry]``: performing the requests boxes
queued, and what an operator sees and releases. Registered by ``sync.hq.cli``."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from edge.words import plural

from ._rules import RELEASABLE, STATES, UNCERTAIN


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    perform = sub.add_parser(
        "perform", help="perform the requests boxes queued (HTTP requests, SMS), once each",
        description="Perform the make-http-request and send-message requests boxes queued "
        "offline ([requests] of hq.toml), each at most once even with several performers: "
        "a request is claimed in the database before it is sent. Runs until Ctrl-C or "
        "SIGTERM, looking every [requests] poll_s; --once performs what is queued and "
        "exits (3 when a request ended uncertain). See docs/hq.md.")
    common(perform)
    perform.add_argument("--once", action="store_true",
                         help="perform what is queued now, then exit (default: keep running)")
    perform.set_defaults(func=run_perform)

    listing = sub.add_parser(
        "requests", help="requests boxes queued and what came of them; 'retry ID' releases one",
        description="List the requests boxes queued (state, outcome). 'requests retry ID' "
        "puts a failed, refused or uncertain request back in the queue: it will be "
        "performed again, so release an uncertain one only once you know the far side did "
        "not act on it.")
    common(listing)
    listing.add_argument("--state", choices=STATES, default=None,
                         help="only requests in this state (default: every state)")
    listing.add_argument("--box", default=None, help="only this box (default: every box)")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    listing.set_defaults(func=run_requests)
    actions = listing.add_subparsers(dest="requests_command", metavar="ACTION",
                                     help="retry: release requests (default: list them)")
    retry = actions.add_parser(
        "retry", help="put requests back in the queue (performed again)",
        description="Release failed, refused or uncertain requests: they are performed "
        "again by the next performer pass.")
    common(retry)
    for action in retry._actions:
        if action.dest in ("config", "db"):
            # Given before 'retry' ('hq requests -c F retry ID'): the parent's value stands.
            action.default = argparse.SUPPRESS
    retry.add_argument("ids", nargs="*", metavar="ID",
                       help="request ids, as 'hq requests' lists them")
    retry.add_argument("--all", choices=sorted(RELEASABLE), default=None, dest="all_in",
                       metavar="STATE", help="every request in this state (failed, refused "
                       "or uncertain), e.g. refused ones after allowing their host (default: only "
                       "the IDs named)")
    retry.set_defaults(func=run_retry)


def _open(args: argparse.Namespace) -> tuple[Any, Any]:
    from ..cli import _storage, load
    from ..storage.request_queue import RequestQueue

    config = load(args)
    storage = _storage(args, config)
    return config, RequestQueue(storage)


def _now() -> str:
    from edge.clock import format_utc

    return format_utc(datetime.now(UTC).timestamp())


def run_perform(args: argparse.Namespace) -> int:
    from edge.cli import setup_logging

    from ._keys import policy
    from ._performer import Performer
    from ._send import send

    setup_logging("info")
    config, queue = _open(args)
    performer = Performer(queue, policy(config.requests), send)
    try:
        if args.once:
            report = performer.run_once()
            counts = ", ".join(f"{n} {s}" for s in STATES if (n := report.count(s)))
            print(f"{plural(report.taken_in, 'request')} taken in; "
                  f"{plural(len(report.outcomes), 'request')} performed"
                  + (f" ({counts})" if counts else "")
                  + (f"; {len(report.abandoned)} abandoned claims marked uncertain"
                     if report.abandoned else ""))
            return 3 if report.abandoned or report.count(UNCERTAIN) else 0
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        performer.run_forever(stop, config.requests["poll_s"])
        return 0
    finally:
        queue.storage.close()


def run_requests(args: argparse.Namespace) -> int:
    _config, queue = _open(args)
    try:
        rows = queue.rows(args.state, args.box)
    finally:
        queue.storage.close()
    if args.json:
        print(json.dumps([r.to_json() for r in rows], indent=1))
        return 0
    if not rows:
        print("no request" + (f" {args.state}" if args.state else ""))
        return 0
    for r in rows:
        what = r.error or r.excerpt or ""
        status = "" if r.status_code is None else f" {r.status_code}"
        when = (r.finished_utc or r.claimed_utc or r.queued_utc)[:19].replace("T", " ")
        print(f"{r.state:<9} {when}  {r.request_id}  {r.widget or '?'}{status}"
              + (f"  {what[:120]}" if what else ""))
    counts = {s: sum(1 for r in rows if r.state == s) for s in STATES}
    print(", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return 0


def run_retry(args: argparse.Namespace) -> int:
    from edge.cli import UserError

    if not args.ids and not args.all_in:
        raise UserError("name the requests to release (ID ...) or --all STATE")
    _config, queue = _open(args)
    try:
        ids = list(args.ids)
        if args.all_in:
            ids += [r.request_id for r in queue.rows(args.all_in)]
        released, refused = [], []
        for request_id in ids:
            (released if queue.release(request_id, RELEASABLE, _now()) else refused).append(
                request_id)
    finally:
        queue.storage.close()
    for request_id in released:
        print(f"released {request_id}: it will be performed again")
    for request_id in refused:
        print(f"not released {request_id}: unknown, or queued, claimed or done",
              file=sys.stderr)
    return 1 if refused else 0


def start_beside_serve(config_path: Any, database: str) -> subprocess.Popen[bytes]:
    """One performer process beside 'hq serve' ([requests] perform_in_serve): a process of
    its own rather than threads in the workers, so gunicorn's forks and worker restarts
    never cut a request mid-way."""
    argv = [sys.executable, "-c", "import sys; from edge.cli import main; sys.exit(main())",
            "hq", "perform", "--db", database]
    if config_path is not None:
        argv += ["--config", str(config_path)]
    return subprocess.Popen(argv)


def stop_beside_serve(performer: subprocess.Popen[bytes], wait_s: float) -> None:
    """SIGTERM: it finishes the request in hand (bounded by its timeout), then exits."""
    performer.terminate()
    try:
        performer.wait(wait_s)
    except subprocess.TimeoutExpired:  # a claim it held becomes uncertain after the lease
        performer.kill()
        performer.wait()
