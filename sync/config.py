"""Config sections of sync: ``[sync]`` (when and how), ``[hq]`` and ``[twilio]`` (the sinks;
a sink is on when its section is present). Secrets (in the secrets file): ``hq_secret``, and
``twilio_api_key_secret`` or ``twilio_auth_token``."""

from __future__ import annotations

import re
from typing import Any

from edge.config import REQUIRED, ConfigProblem, Key, Section

from ._twilio_item import max_batch_bytes

SECRET_KEYS = {
    "hq_secret": "the box's HMAC key for signing batches to HQ (>= 16 characters; HQ holds "
                 "the same string for this box id)",
    "twilio_api_key_secret": "secret of the Twilio API key named in [twilio] api_key_sid",
    "twilio_auth_token": "Auth Token of the Twilio account named in [twilio] account_sid",
}

# The largest [twilio] batch_max_bytes: the batch in base64, wrapped in the item's JSON, must
# fit Twilio's 16 KiB item Data (12,168 bytes; see sync._twilio_item).
TWILIO_MAX_BATCH_BYTES = max_batch_bytes()


def _url(value: str) -> str | None:
    if not re.match(r"https?://[^/]+", value):
        return "expected an http(s):// URL"
    return None


def _prefix(prefix: str, optional: bool = False):  # type: ignore[no-untyped-def]
    def check(value: str) -> str | None:
        if optional and not value:
            return None
        if not value.startswith(prefix):
            return f"expected a Twilio SID starting with {prefix}"
        return None

    return check


def twilio_login(section: dict[str, Any]) -> tuple[str, str]:
    """The Basic-auth user of the Twilio sink and the secrets-file key of its password: an API
    key (SK..., ``twilio_api_key_secret``) or the account (AC..., ``twilio_auth_token``)."""
    if section.get("api_key_sid"):
        return section["api_key_sid"], "twilio_api_key_secret"
    return section.get("account_sid", ""), "twilio_auth_token"


def _twilio_check(values: dict[str, Any]) -> list[ConfigProblem]:
    if bool(values["api_key_sid"]) == bool(values["account_sid"]):
        return [ConfigProblem("twilio.api_key_sid", "give either api_key_sid (an API key, "
                              "SK...; recommended) or account_sid (AC..., with the Auth "
                              "Token), not both and not neither")]
    return []


def _map_names(value: list[str]) -> str | None:
    if not value:
        return "give at least one Map"
    for name in value:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", name):
            return f"{name!r}: use letters, digits, '.', '-', '_'"
    return None


def _hq_check(values: dict[str, Any]) -> list[ConfigProblem]:
    if values["url"].startswith("http://") and values["verify_tls"] and not values["allow_http"]:
        return [ConfigProblem("hq.url", "plain http:// sends batches unencrypted; use https:// "
                              "or set allow_http = true (tests, a VPN)")]
    return []


SYNC = Section(
    "sync",
    "When the box sends its outbox (to every sink that is configured).",
    (
        Key("interval_s", float, 300.0, "Seconds between sync attempts while all is well.",
            min=10, max=86400),
        Key("max_backoff_s", float, 3600.0, "Longest wait between attempts while offline "
            "(doubles from interval_s after each failed attempt).", min=10, max=86400),
        Key("batch_max_records", int, 20000, "Most outbox records in one batch.", min=1,
            max=100000),
        Key("compression", str, "xz", "Batch compression: xz (smallest) or gzip (for "
            "receivers without lzma, e.g. Node).", choices=("xz", "gzip")),
        Key("once_max_wait_s", float, 120.0, "How long 'edgecall sync --once' keeps retrying "
            "transient failures before giving up.", min=0, max=86400),
        Key("retry_parked_s", float, 21600.0, "'edgecall serve' puts a parked batch back in "
            "line once it has been parked this long (the cause may be gone: an HQ limit "
            "raised, a proxy fixed); 0: only 'edgecall sync --once --retry-parked'.", min=0,
            max=7 * 86400),
        Key("audio_bytes_per_day", int, 8 * 1024 * 1024, "Bytes each sink may spend on "
            "recorded answers' sound per UTC day (chunks and their headers), after every "
            "record is sent: on GPRS recordings never hold up answers. About 56 KB per "
            "minute of speech (Opus 8 kbit/s); 0: recordings stay on the box.", min=0,
            max=1024 * 1024 * 1024, unit="bytes"),
        Key("send_callback_numbers", bool, False, "Send the raw number of each pending "
            "callback with the next batch, so that HQ can place the call (off: caller "
            "numbers leave the box only as pseudonyms)."),
    ),
    optional=True,
)

HQ = Section(
    "hq",
    "The HQ webhook sink (edgecall hq serve, or any receiver of sync/PROTOCOL.md).",
    (
        Key("url", str, REQUIRED, "Batch endpoint, e.g. https://hq.example.org/v1/batches.",
            check=_url, example="https://hq.example.org/v1/batches"),
        Key("verify_tls", bool, True, "Check HQ's TLS certificate (never turn off in the "
            "field)."),
        Key("ca_file", str, "", "CA bundle to trust for HQ instead of the system's."),
        Key("allow_http", bool, False, "Permit a plain http:// url."),
        Key("batch_max_bytes", int, 48 * 1024, "Largest batch on the wire; on GPRS "
            "(~5 kB/s) a 48 KiB batch takes ~10 s, a dropped one costs no more.",
            min=1024, max=4 * 1024 * 1024, unit="bytes"),
        Key("connect_timeout_s", float, 20.0, "Seconds to wait to connect.", min=1, max=300),
        Key("read_timeout_s", float, 90.0, "Seconds to wait for HQ's answer.", min=1, max=900),
        Key("pull_surveys", bool, True, "Fetch survey packs HQ publishes at "
            "<url base>/v1/surveys/current.json."),
    ),
    optional=True,
    extra_check=_hq_check,
)

TWILIO = Section(
    "twilio",
    "The Twilio Sync sink: batches become Map items (keys: box, store epoch, batch number).",
    (
        Key("service_sid", str, REQUIRED, "Sync Service SID (IS...).", check=_prefix("IS"),
            example="IS" + "x" * 32),
        Key("api_key_sid", str, "", "API key SID (SK...; recommended); its secret goes in "
            "the secrets file as twilio_api_key_secret. Empty when account_sid is given.",
            check=_prefix("SK", optional=True), example="SK" + "x" * 32),
        Key("account_sid", str, "", "Account SID (AC...), to sign in with the account's Auth "
            "Token (secrets file: twilio_auth_token) instead of an API key; empty when "
            "api_key_sid is given.", check=_prefix("AC", optional=True)),
        Key("maps", list, ["edgecall-0", "edgecall-1", "edgecall-2", "edgecall-3"],
            "Map unique names (created beforehand); batches are spread over them because "
            "Twilio allows 20 writes/s per Map.", item=str, check=_map_names),
        Key("base_url", str, "https://sync.twilio.com", "Twilio Sync API base URL.",
            check=_url),
        Key("batch_max_bytes", int, 11 * 1024, "Largest batch before base64; the item's Data "
            "(the batch in base64, in JSON) must stay within Twilio's 16 KiB, so at most "
            f"{TWILIO_MAX_BATCH_BYTES:,} bytes.", min=1024, max=TWILIO_MAX_BATCH_BYTES,
            unit="bytes"),
        Key("item_ttl_s", int, 0, "Item time-to-live in seconds (0: kept).", min=0,
            max=31_536_000),
        Key("writes_per_s", float, 15.0, "Writes per Map the box allows itself in any one "
            "second (whole writes; below 1, one write every 1/rate s). Twilio's limit is 20.",
            min=0.1, max=20),
        Key("read_timeout_s", float, 60.0, "Seconds to wait for Twilio's answer.", min=1,
            max=600),
    ),
    optional=True,
    extra_check=_twilio_check,
)

SECTIONS = (SYNC, HQ, TWILIO)

SYNC_DEFAULTS: dict[str, Any] = SYNC.parse({})[0]
