"""The checks of the box itself: config, secrets, disk, database, clock, surveys, lines.

Other parts add theirs through the ``edgecall.doctor`` entry point group: a callable
``checks(config) -> iterable of CheckResult`` (modem, SIP gateway, HQ, Twilio).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from edge.clock import PLAUSIBLE_YEARS, Clock
from edge.config import Config, ConfigError, load_config, load_secrets, secrets_mode_ok
from edge.plugins import all_sections, line_kinds
from edge.server import data_dir_problem
from edge.store import DB_NAME, StoreReads
from edge.survey import compile_file, resolve_survey_path
from edge.words import plural

from ._result import CheckResult, fail, ok, warn


def check_config(path: Path) -> tuple[Config | None, CheckResult]:
    try:
        config = load_config(path, all_sections(), with_secrets=False)
    except ConfigError as exc:
        return None, fail("config", f"{plural(len(exc.problems), 'problem')}: "
                          + "; ".join(str(p) for p in exc.problems),
                          f"edit {path} (every key is described in docs/configuration.md)")
    return config, ok("config", f"{path} is valid")


def check_secrets(config: Config) -> Iterator[CheckResult]:
    path = config.secrets_path
    try:
        load_secrets(path)
    except ConfigError as exc:
        yield fail("secrets", str(exc).splitlines()[0],
                   f"run 'edgecall init' to create {path}, or fix the key it names")
        return
    if not secrets_mode_ok(path):
        yield warn("secrets", f"{path} is readable by other users", f"chmod 600 {path}")
    else:
        yield ok("secrets", f"{path} is present and private")


def check_storage(config: Config) -> Iterator[CheckResult]:
    data_dir = config.data_dir
    problem = data_dir_problem(data_dir)
    if problem:
        yield fail("data directory", problem,
                   f"create it and give the service user write access: chown edgecall {data_dir}")
        return
    free_mb = shutil.disk_usage(data_dir).free // (1024 * 1024)
    minimum = config.sections["server"]["min_free_mb"]
    if free_mb < minimum:
        yield fail("free space", f"{free_mb} MB free in {data_dir}; calls get the busy message "
                   f"below {minimum} MB", "free space (old exports, logs) or use a larger card",
                   free_mb=free_mb)
    elif free_mb < minimum * 10:
        yield warn("free space", f"only {free_mb} MB free in {data_dir}",
                   "free space soon: below "
                   f"{minimum} MB new callers hear the busy message", free_mb=free_mb)
    else:
        yield ok("free space", f"{free_mb} MB free in {data_dir}", free_mb=free_mb)
    database = data_dir / DB_NAME
    if not database.exists():
        yield warn("database", f"{database} does not exist yet",
                   "it is created when 'edgecall serve' first starts")
        return
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
        try:
            reads = StoreReads(conn)
            result = reads.quick_check()
            backlog = reads.backlog()
            try:
                recordings = reads.audio_summary()
            except sqlite3.OperationalError:  # written by an older version: serve upgrades it
                recordings = None
        finally:
            conn.close()
    except sqlite3.Error as exc:
        yield fail("database", f"{database} cannot be read: {exc}",
                   "check the file's owner and the disk; restore from a backup if it is damaged")
        return
    if result != "ok":
        yield fail("database", f"integrity check failed: {result}",
                   f"stop the service, copy {database} aside and restore or rebuild it")
    else:
        yield ok("database", f"integrity ok; {plural(backlog, 'record')} waiting to sync",
                 backlog=backlog)
    if recordings and recordings["count"]:
        yield check_recordings(recordings, config.sections["server"]["recordings_max_mb"])


def check_recordings(summary: dict[str, int], cap_mb: int) -> CheckResult:
    """What recorded answers take on the box, against ``[server] recordings_max_mb``."""
    kept_mb = summary["kept_bytes"] / (1024 * 1024)
    waiting_mb = summary["waiting_bytes"] / (1024 * 1024)
    text = (f"{plural(summary['count'], 'recording')}: {kept_mb:.0f} MB on the box "
            f"({'no cap' if not cap_mb else f'cap {cap_mb} MB'}), {summary['held']} held by "
            f"HQ, {summary['removed']} removed here to make room")
    if cap_mb and waiting_mb > 0.8 * cap_mb:
        return warn("recordings", text + f"; {waiting_mb:.0f} MB not yet at HQ",
                    "new messages are refused once recordings HQ lacks fill the cap: let the "
                    "box sync ('edgecall sync status') or raise [server] recordings_max_mb",
                    **summary)
    return ok("recordings", text, **summary)


def check_clock(clock: Clock | None = None) -> CheckResult:
    stamp = (clock or Clock()).now()
    year = int(stamp.utc[:4])
    if year not in PLAUSIBLE_YEARS:
        return fail("clock", f"the clock says {stamp.utc}: not a plausible date",
                    "set the time (date -s) or connect to a network once; timestamps taken "
                    "now are flagged and corrected later", quality=stamp.quality)
    if stamp.quality == "unsynchronised":
        return warn("clock", f"{stamp.utc}, not synchronised",
                    "enable NTP when online (timedatectl set-ntp true); with a modem, network "
                    "time corrects stamps; records are flagged until then",
                    quality=stamp.quality)
    return ok("clock", f"{stamp.utc}, source {stamp.quality}", quality=stamp.quality)


def check_surveys(config: Config) -> Iterator[CheckResult]:
    path = resolve_survey_path(config.sections["survey"]["file"], config.base_dir)
    survey, problems = compile_file(path)
    errors = [p for p in problems if p.severity == "error"]
    if survey is None or errors:
        first = errors[0] if errors else ""
        yield fail("survey", f"{path}: {plural(len(errors), 'error')}, first: {first}",
                   f"run 'edgecall survey check {path}' and fix what it lists")
        return
    missing_audio = [p for p in problems if p.severity == "warning" and "audio" in p.message]
    if missing_audio:
        yield warn("prompts", f"{plural(len(missing_audio), 'recording')} missing; their text "
                   "is spoken "
                   f"instead (first: {missing_audio[0].path})",
                   "copy the audio files beside the survey, or accept the text-to-speech")
    else:
        yield ok("prompts", f"survey {survey.id!r} v{survey.version}: prompts present for "
                 + ", ".join(survey.languages))


def check_lines(config: Config) -> CheckResult:
    enabled = [name for name in line_kinds()
               if config.section(name) is not None
               and config.section(name).get("enabled", True)]
    if not enabled:
        return fail("lines", "no line is enabled",
                    "configure [sip] for a GSM-SIP gateway, [modem] for a USB/serial modem, "
                    "or [simulated] for scripted callers without hardware ('edgecall init "
                    "--simulated DIR' writes one that runs); see docs/configuration.md")
    return ok("lines", "enabled: " + ", ".join(enabled))
