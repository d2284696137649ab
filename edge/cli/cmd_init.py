"""``edgecall init [DIR]``: a commented config and a secrets file (mode 0600); with
``--simulated`` also a calls file and the simulated line switched on, so the box runs at once."""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path
from typing import Any

from edge.config._render import render_config
from edge.plugins import all_sections

from ._errors import UserError
from ._next_steps import after_init, after_init_simulated
from ._sample_calls import SAMPLE_CALLS, sample_calls_text

CALLS_FILE = "calls.json"

SECRETS_TEMPLATE = """\
# edgecall secrets: keep this file readable by the service user only (mode 0600).
# The same pseudonym_key on every box of a deployment gives a caller the same pseudonym
# everywhere; losing it only means new pseudonyms.
pseudonym_key = "{key}"
# Password of the status page ([status_page] in the config); any user name.
status_page_password = "{password}"
# The box's key for signing batches to HQ ([hq]); give HQ the same string for this box id.
hq_secret = "{hq_secret}"
# Secret of the Twilio API key named in [twilio] api_key_sid, when the Twilio sink is used
# (or, with [twilio] account_sid instead, the account's Auth Token as twilio_auth_token).
# twilio_api_key_secret = ""
# Password of the [sip] account when the box registers (used when [sip] password is empty).
# sip_password = ""
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "init", help="write a commented config and a secrets file",
        description="Write DIR/edgecall.toml (every key, commented, with its default) and "
        "DIR/secrets.toml (mode 0600), then say what to edit next. With --simulated the box "
        "runs as written: 'edgecall serve --config DIR/edgecall.toml' answers scripted calls.")
    parser.add_argument("dir", nargs="?", type=Path, default=Path("."),
                        help="where to write edgecall.toml and secrets.toml (default: .)")
    parser.add_argument("--data-dir", default="data",
                        help="data directory to write into the config (default: DIR/data)")
    parser.add_argument("--box-id", default="box-1", help="name of this box")
    parser.add_argument("--simulated", action="store_true",
                        help=f"switch the [simulated] line on and write DIR/{CALLS_FILE}: "
                        "scripted callers of the built-in demo survey (no hardware needed)")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    directory: Path = args.dir
    config_path = directory / "edgecall.toml"
    secrets_path = directory / "secrets.toml"
    calls_path = directory / CALLS_FILE
    written = [config_path, secrets_path] + ([calls_path] if args.simulated else [])
    for path in written:
        if path.exists() and not args.force:
            raise UserError(f"{path} exists; use --force to overwrite it")
    password = secrets.token_urlsafe(9)
    values: dict[str, dict[str, Any]] = {
        "box": {"id": args.box_id, "data_dir": args.data_dir, "secrets_file": "secrets.toml"}}
    if args.simulated:
        # Real time (speed 1): what a caller on a real line would hear and press, in the log.
        values["simulated"] = {"enabled": True, "calls_file": CALLS_FILE, "speed": 1.0}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        text = render_config(all_sections(), values)
        config_path.write_text(text, encoding="utf-8")
        if args.simulated:
            calls_path.write_text(sample_calls_text(), encoding="utf-8")
        # Created with 0600 from the start: never readable by others, not even briefly.
        fd = os.open(secrets_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(SECRETS_TEMPLATE.format(key=secrets.token_hex(32), password=password,
                                                 hq_secret=secrets.token_urlsafe(24)))
        os.chmod(secrets_path, 0o600)
    except OSError as exc:
        raise UserError(f"cannot write to {directory}: {exc.strerror or exc}") from exc
    print(f"wrote {config_path}")
    print(f"wrote {secrets_path} (mode 0600); status page password: {password}")
    if args.simulated:
        print(f"wrote {calls_path}")
        print(after_init_simulated(config_path, calls_path, len(SAMPLE_CALLS)))
    else:
        print(after_init(config_path, secrets_path))
    return 0
