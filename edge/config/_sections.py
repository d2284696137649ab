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
        Key("when_busy", str, "message", "What a caller gets while every line is busy: "
            "'reject' declines the call unanswered (SIP 486 Busy Here; a modem hangs up without "
            "answering), so the caller hears busy and pays nothing; 'message' answers, plays "
            "the survey's busy message and hangs up.", choices=("reject", "message")),
    ),
)

CORE_SECTIONS = (BOX, SURVEY, SERVER)
