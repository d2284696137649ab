"""The sections edge/ itself reads. Line kinds and sync add theirs through entry points."""

from __future__ import annotations

import re

from ._schema import Key, Section


def _box_id(value: str) -> str | None:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", value):
        return "use 1-32 letters, digits, '-' or '_' (it is part of every record id)"
    return None


BOX = Section(
    "box",
    "This box: its name and where it keeps data.",
    (
        Key("id", str, "box-1", "Name of this box; part of every record id sent to HQ.",
            check=_box_id),
        Key("data_dir", str, "/var/lib/edgecall",
            "Directory for edgecall.db, exports and caches. Relative paths are taken from the "
            "config file's directory."),
        Key("secrets_file", str, "secrets.toml",
            "TOML file with the per-deployment secrets (mode 0600). Relative to the config file."),
        Key("log_level", str, "info", "Least severe log level written.",
            choices=("debug", "info", "warning", "error")),
    ),
)

SURVEY = Section(
    "survey",
    "Which survey callers get.",
    (
        Key("file", str, "builtin:demo",
            "Survey JSON file (relative to the config file), or builtin:demo for the bundled "
            "demo survey."),
    ),
)

SERVER = Section(
    "server",
    "The call server.",
    (
        Key("max_concurrent_calls", int, 4, "Calls handled at once; further callers hear the "
            "busy prompt and are recorded with disposition busy.", min=1, max=500),
        Key("shutdown_grace_s", float, 30.0, "On SIGTERM, how long calls in progress may go on "
            "before they are hung up.", min=0, max=3600),
        Key("store_busy_timeout_s", float, 5.0, "How long a write waits for a locked database "
            "before the call is treated as a store failure.", min=0.1, max=120),
        Key("min_free_mb", int, 20, "Below this much free disk in data_dir new calls get the "
            "busy prompt (answers already committed are kept).", min=0, max=100000),
        Key("outbox_keep_days", float, 30.0, "Outbox records (what sync sends) are deleted "
            "this many days after they were made, once every configured sink has "
            "acknowledged them (calls and answers themselves are kept); by the daily "
            "retention purge.", min=0, max=3650),
        Key("recordings_max_mb", int, 0, "Most disk recorded answers may take (WAVs and "
            "their link copies); 0: no cap of their own. Above it, or when the disk runs "
            "short, the box removes its WAVs of recordings HQ already holds, oldest first; "
            "a recording HQ does not hold is never removed, so new recordings are refused "
            "(the survey goes on) until HQ has the old ones.", min=0, max=10_000_000),
        Key("when_busy", str, "message", "What a caller gets while every line is busy: "
            "'reject' declines the call unanswered (SIP 486 Busy Here; a modem hangs up without "
            "answering), so the caller hears busy and pays nothing; 'message' answers, plays "
            "the survey's busy message and hangs up.", choices=("reject", "message")),
    ),
)

def _hours(value: str) -> str | None:
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)", value)
    if match and match.group(3) == "24" and match.group(4) != "00":
        match = None
    if not match or match.group(1, 2) == match.group(3, 4):
        return ('write the local hours when calls may be placed as "HH:MM-HH:MM", e.g. '
                '"08:00-20:00" ("00:00-24:00": any time)')
    return None


def _zone(value: str) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return 'use an IANA time zone name such as "Africa/Nairobi" or "UTC"'
    return None


def _country(value: str) -> str | None:
    if value and not re.fullmatch(r"[1-9]\d{0,2}", value):
        return 'the country calling code in digits, without + (e.g. "255"), or "" for none'
    return None


OUTBOUND = Section(
    "outbound",
    "Calling people back (missed calls, busy overflow, requested callbacks) and outbound "
    "campaigns (edgecall campaign ...). See docs/callbacks.md.",
    (
        Key("enabled", bool, False, "Place calls: the dispatcher dials queued callbacks and "
            "campaign numbers on lines that can dial."),
        Key("call_back_missed", bool, True, "Queue a callback when a call ends before it is "
            "answered (the caller rang and hung up, or a line with on_ring = \"callback\")."),
        Key("call_back_busy", bool, True, "Queue a callback for a caller turned away because "
            "every line was busy."),
        Key("call_back_cut", bool, False, "Queue a callback for a call cut mid-survey "
            "(disposition partial); these are called first."),
        Key("country_code", str, "", "Country calling code for national numbers in campaign "
            "files and caller ids (e.g. \"255\"); empty: numbers must be international.",
            check=_country),
        Key("timezone", str, "UTC", "The box's time zone for calling hours and the daily cap "
            "(IANA name).", check=_zone),
        Key("calling_hours", str, "08:00-20:00", "Local hours when calls may be placed.",
            check=_hours),
        Key("max_attempts", int, 3, "Dials per number before its job fails.", min=1, max=20),
        Key("retry_busy_s", int, 600, "Wait after a busy signal.", min=0, max=604800),
        Key("retry_no_answer_s", int, 1800, "Wait after no answer.", min=0, max=604800),
        Key("retry_rejected_s", int, 86400, "Wait after the callee declined the call.", min=0,
            max=604800),
        Key("retry_failed_s", int, 900, "Wait after a failed or unreachable attempt.", min=0,
            max=604800),
        Key("dedup_window_h", float, 24.0, "A number called back successfully this recently is "
            "not queued again.", min=0, max=8760),
        Key("max_outbound", int, 2, "Outbound calls at once (all lines).", min=1, max=500),
        Key("reserve_inbound", int, 1, "Call slots kept free for callers (see "
            "lend_reserve_after_s).", min=0, max=500),
        Key("lend_reserve_after_s", float, 60.0, "Once a callback has waited this long for a "
            "line, the slots kept for callers call back too, so no line idles while callbacks "
            "queue; only with call_back_busy (a caller who then finds every line busy is "
            "called back). 0: never.", min=0, max=86400),
        Key("daily_minutes", float, 120.0, "Most outbound airtime per local day, in minutes "
            "(airtime costs money).", min=0, max=100000),
        Key("ring_timeout_s", float, 30.0, "How long a dialled phone may ring.", min=5, max=120),
        Key("expire_after_h", float, 48.0, "Jobs older than this are dropped, not dialled (a "
            "box off for days does not call everyone back at once).", min=1, max=8760),
        Key("check_interval_s", float, 30.0, "How often the dispatcher looks for calls to "
            "place (it also wakes at once when a callback is queued or a call ends).",
            min=1, max=3600),
    ),
    optional=True,
)

CORE_SECTIONS = (BOX, SURVEY, SERVER, OUTBOUND)
