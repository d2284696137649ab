"""``hq.toml``: one file for ``edgecall hq serve``, its gunicorn workers and every other
``edgecall hq`` command (database, where boxes reach HQ, limits, alerts, the fleet page and
the Twilio Sync import). Declared with the box's config schema (edge.config), so errors name
the key, the value and what was expected."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.config import ConfigError, ConfigProblem
from edge.config._render import render_config
from edge.config._schema import Key, Section

from ._limits import Limits
from ._settings import Alerts, HqSettings
from .perform._keys import REQUESTS

HQ = Section("hq", "The HQ receiver.", (
    Key("database", str, "hq.db", "SQLite file (relative to this file) for one small HQ, "
        "or postgresql://user@host/dbname for a fleet."),
    Key("url", str, "http://127.0.0.1:8750/v1/batches", "Batch URL the boxes use: written "
        "into enrolment tokens."),
    Key("listen", str, "127.0.0.1:8750", "HOST:PORT to listen on (0.0.0.0:8750: every "
        "interface; put a TLS proxy in front or set tls_cert)."),
    Key("workers", int, 4, "gunicorn worker processes (PostgreSQL; with SQLite, 1 is "
        "enough).", min=1, max=64),
    Key("threads", int, 8, "Threads per worker: requests handled at once by each.",
        min=1, max=256),
    Key("max_connections", int, 1000, "Connections one worker keeps open at most (idle "
        "ones wait in a poller, not in a thread).", min=10, max=100000),
    Key("window_s", float, 300.0, "Accepted clock difference between a box and HQ; "
        "replays inside it are refused by signature.", min=10, max=86400),
    Key("surveys", str, "", "Directory of survey packs ('edgecall hq publish'); empty: "
        "none offered."),
    Key("tls_cert", str, "", "Certificate chain (PEM) to serve HTTPS itself."),
    Key("tls_key", str, "", "Private key of tls_cert (empty: inside tls_cert)."),
    Key("rotation_grace_days", float, 14.0, "After 'hq rotate-key', the old key is still "
        "accepted this long (or until the box signs with the new one).", min=0, max=365),
    Key("body_only_auth", bool, False, "Accept boxes that predate X-Edgecall-Auth (their "
        "bodies are read before they are authenticated)."),
    Key("boxes_file", str, "", "A TOML [boxes] table (box id = its hq_secret) enrolled when "
        "serve starts; boxes already known keep their key. Empty: none (use hq add-box)."),
    Key("fleet_password", str, "", "Password of the fleet page at /fleet and of the "
        "recordings at /audio/... (any user name); empty: neither is served."),
    Key("audio_dir", str, "audio", "Directory (relative to this file) where recorded answers "
        "the boxes upload are kept; empty: HQ takes no recordings."),
))

LIMITS = Section("limits", "What one batch may be; each is checked before the work it "
                 "bounds.", (
    Key("max_body", int, Limits.max_body, "Bytes of a batch on the wire.", min=1024,
        max=64 * 1024 * 1024, unit="bytes"),
    Key("max_decompressed", int, Limits.max_decompressed, "Bytes of a batch once "
        "decompressed.", min=1024, max=1024 * 1024 * 1024, unit="bytes"),
    Key("max_rows", int, Limits.max_rows, "Records in one batch.", min=1, max=10_000_000),
    Key("max_record_bytes", int, Limits.max_record_bytes, "Bytes of one record's body.",
        min=256, max=16 * 1024 * 1024, unit="bytes"),
    Key("max_depth", int, Limits.max_depth, "JSON nesting of a batch header.", min=4,
        max=256),
    Key("body_timeout_s", float, Limits.body_timeout_s, "Longest wait for the next bytes "
        "of a body.", min=1, max=600),
    Key("max_audio_bytes", int, Limits.max_audio_bytes, "Bytes of one recording as the "
        "boxes send it (Opus: about 56 KB a minute).", min=1024, max=1024 * 1024 * 1024,
        unit="bytes"),
))

ALERTS = Section("alerts", "When the fleet page and 'hq boxes' flag a box.", (
    Key("silent_h", float, Alerts.silent_h, "No request from the box for this long.",
        min=0.1, max=24 * 30),
    Key("disk_low_mb", float, Alerts.disk_low_mb, "Free disk below this.", min=0),
    Key("backlog_records", int, Alerts.backlog_records, "Records waiting on the box above "
        "this.", min=1),
))

TWILIO = Section("twilio", "Twilio Sync, for 'edgecall hq import-twilio'.", (
    Key("service_sid", str, "", "Sync Service SID (IS...)."),
    Key("api_key_sid", str, "", "API key SID (SK...)."),
    Key("api_key_secret", str, "", "The API key's secret."),
    Key("maps", list, ["edgecall-0", "edgecall-1", "edgecall-2", "edgecall-3"],
        "The Maps the boxes write.", item=str),
    Key("base_url", str, "https://sync.twilio.com", "Twilio Sync API base URL."),
))

SECTIONS = (HQ, LIMITS, ALERTS, TWILIO, REQUESTS)


@dataclass
class HqConfig:
    path: Path | None
    hq: dict[str, Any]
    limits: dict[str, Any]
    alerts: dict[str, Any]
    twilio: dict[str, Any]
    requests: dict[str, Any] = field(default_factory=lambda: REQUESTS.parse({})[0])

    def resolve(self, value: str) -> str:
        """A path relative to the config file's directory; URLs unchanged."""
        if not value or "://" in value or self.path is None:
            return value
        return str((self.path.parent / value).resolve())

    @property
    def database(self) -> str:
        return self.resolve(self.hq["database"])

    def listen(self) -> tuple[str, int]:
        host, _, port = self.hq["listen"].rpartition(":")
        return host.strip("[]") or "127.0.0.1", int(port)

    def settings(self) -> HqSettings:
        surveys = self.resolve(self.hq["surveys"])
        audio = self.resolve(self.hq["audio_dir"])
        return HqSettings(
            audio_dir=Path(audio) if audio else None, public_url=self.hq["url"],
            window_s=self.hq["window_s"], limits=Limits(**self.limits),
            surveys_dir=Path(surveys) if surveys else None,
            rotation_grace_s=self.hq["rotation_grace_days"] * 86400,
            fleet_password=self.hq["fleet_password"], alerts=Alerts(**self.alerts),
            body_only_auth=self.hq["body_only_auth"])


def _listen(value: str) -> str | None:
    _host, sep, port = value.rpartition(":")
    if not sep or not port.isascii() or not port.isdigit() or int(port) > 65535:
        return "expected HOST:PORT, e.g. 127.0.0.1:8750"
    return None


def parse(raw: dict[str, Any], source: str, path: Path | None) -> HqConfig:
    problems: list[ConfigProblem] = []
    for name in raw:
        if name not in {s.name for s in SECTIONS}:
            problems.append(ConfigProblem(name, "unknown section; hq.toml takes "
                                          + ", ".join(f"[{s.name}]" for s in SECTIONS)))
    values = {}
    for section in SECTIONS:
        parsed, found = section.parse(raw.get(section.name, {}))
        values[section.name] = parsed
        problems += found
    if not problems and (message := _listen(values["hq"]["listen"])):
        problems.append(ConfigProblem("hq.listen", message))
    if problems:
        raise ConfigError(source, problems)
    return HqConfig(path, values["hq"], values["limits"], values["alerts"], values["twilio"],
                    values["requests"])


def load(path: Path | None) -> HqConfig:
    """The config at ``path`` (None: every default)."""
    if path is None:
        return parse({}, "defaults", None)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), [ConfigProblem("file", exc.strerror or str(exc))]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [ConfigProblem("file", f"not TOML: {exc}")]) from exc
    return parse(raw, str(path), path)


def render(values: dict[str, dict[str, Any]]) -> str:
    """A commented hq.toml with every key (the box's ``init`` renders its file the same)."""
    return render_config(SECTIONS, values)
