"""Enrolment: HQ's ``edgecall hq add-box NAME`` prints one token; ``edgecall enrol TOKEN`` on
the box writes its ``[hq]`` section and ``hq_secret`` from it. The token carries the box id,
HQ's batch URL and the box's key: it is a secret, shown once.

Token: ``ec1.`` + base64url (no padding) of ``{"box", "url", "secret"}`` as JSON."""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
from pathlib import Path
from typing import Any

PREFIX = "ec1."


class TokenError(ValueError):
    pass


def encode_token(box: str, url: str, secret: str) -> str:
    doc = json.dumps({"box": box, "url": url, "secret": secret}, separators=(",", ":"))
    return PREFIX + base64.urlsafe_b64encode(doc.encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, str]:
    token = token.strip()
    if not token.startswith(PREFIX):
        raise TokenError("not an edgecall enrolment token (they start with 'ec1.')")
    body = token[len(PREFIX):]
    try:
        doc = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenError("the token is damaged (copy it again, whole)") from exc
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), str)
                                            for k in ("box", "url", "secret")):
        raise TokenError("the token is damaged (copy it again, whole)")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", doc["box"]) or len(doc["secret"]) < 16 \
            or not re.match(r"https?://[^/]+", doc["url"]):
        raise TokenError("the token holds an invalid box id, URL or key")
    return doc


def _replace_table(text: str, name: str, body: str) -> str:
    """``text`` with table ``[name]`` replaced by ``body`` (or ``body`` appended)."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    skipping = False
    for line in lines:
        header = re.match(r"\s*\[([^\]]+)\]\s*(#.*)?$", line)
        if header:
            skipping = header.group(1).strip() == name
        if not skipping:
            out.append(line)
    text = "".join(out)
    if text and not text.endswith("\n"):
        text += "\n"
    return text + body


def _set_key(text: str, key: str, value: str) -> str:
    """Top-level ``key = "value"`` in a TOML text, replaced where it is, else prepended."""
    line = f"{key} = {json.dumps(value)}\n"
    pattern = re.compile(rf"^{re.escape(key)}\s*=.*$\n?", re.M)
    if pattern.search(text):
        return pattern.sub(lambda _m: line, text, count=1)
    return line + text


def _set_box_id(text: str, box: str) -> str:
    """``[box] id`` set to ``box`` in the config text."""
    match = re.search(r"^\[box\]\s*$", text, re.M)
    if match is None:
        return f'[box]\nid = "{box}"\n' + text
    start = match.end()
    nxt = re.search(r"^\s*\[", text[start:], re.M)
    end = start + nxt.start() if nxt else len(text)
    section = text[start:end]
    if re.search(r"^id\s*=", section, re.M):
        section = re.sub(r"^id\s*=.*$", f'id = "{box}"', section, count=1, flags=re.M)
    else:
        section = f'\nid = "{box}"' + section
    return text[:start] + section + text[end:]


def enrol(config_path: Path, token: str) -> dict[str, Any]:
    """Write the token's ``[hq]`` section, box id and ``hq_secret``; returns what was done.
    Refuses a box id other than the one of the records already in the store (HQ would
    refuse those records: they belong to the other id)."""
    from edge.config import load_config
    from edge.plugins import all_sections

    doc = decode_token(token)
    config = load_config(config_path, all_sections())
    from ._identity import stored_box_ids

    stored = stored_box_ids(config.data_dir / "edgecall.db")
    if stored and stored != {doc["box"]}:
        raise TokenError(f"this box's records carry box id {', '.join(sorted(stored))}; the "
                         f"token is for {doc['box']}: ask HQ for a token for that id")
    text = config_path.read_text(encoding="utf-8")
    text = _set_box_id(text, doc["box"])
    hq = f'[hq]\nurl = "{doc["url"]}"\n'
    if doc["url"].startswith("http://"):
        hq += "allow_http = true  # the token names a plain http:// HQ (a test, a VPN)\n"
    text = _replace_table(text, "hq", hq)
    tmp = config_path.with_name(config_path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(config_path)
    secrets_path = config.secrets_path
    old = secrets_path.read_text(encoding="utf-8") if secrets_path.exists() else ""
    fd = os.open(secrets_path.with_name(secrets_path.name + ".tmp"),
                 os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(_set_key(old, "hq_secret", doc["secret"]))
    secrets_path.with_name(secrets_path.name + ".tmp").replace(secrets_path)
    return {"box": doc["box"], "url": doc["url"], "config": config_path,
            "secrets": secrets_path}


def register(subparsers: Any) -> None:
    from edge.cli import add_config_argument

    parser = subparsers.add_parser(
        "enrol", help="join this box to HQ with the token 'edgecall hq add-box' printed",
        description="Write the [hq] section (HQ's URL), the box id and hq_secret from an "
        "enrolment token that 'edgecall hq add-box NAME' (or 'hq rotate-key NAME') printed at "
        "HQ. Then 'edgecall doctor' checks that HQ accepts the box.")
    parser.add_argument("token", help="the token (starts with 'ec1.')")
    add_config_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edge.cli import UserError
    from edge.cli._common import find_config

    path = find_config(args.config)
    try:
        done = enrol(path, args.token)
    except TokenError as exc:
        raise UserError(str(exc)) from exc
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from exc
    print(f"enrolled as box {done['box']} with HQ {done['url']}: wrote [hq] to "
          f"{done['config']} and hq_secret to {done['secrets']}")
    print(f"next: edgecall doctor -c {done['config']} (checks that HQ accepts this box), "
          "then 'edgecall sync --once' sends the outbox")
    return 0
