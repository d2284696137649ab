"""Outbound campaigns from a CSV file: numbers validated (E.164, or national with the configured
country code), duplicates within the file and numbers already waiting dropped, opted-out
callers never queued. The file is read once; nothing of it is kept but the queued jobs."""

from __future__ import annotations

import csv
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from edge.privacy import Pseudonymiser
from edge.store import Store

from ._numbers import BadNumber, to_e164

NUMBER_COLUMNS = ("number", "phone", "msisdn", "phone_number", "tel")


class CampaignError(ValueError):
    pass


@dataclass
class ImportReport:
    campaign: str
    queued: int = 0
    duplicates: int = 0
    opted_out: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (row, reason)


def _numbers_column(header: list[str]) -> int:
    lowered = [h.strip().lower() for h in header]
    for name in NUMBER_COLUMNS:
        if name in lowered:
            return lowered.index(name)
    raise CampaignError("no number column: name one of " + ", ".join(NUMBER_COLUMNS)
                        + f" (the header is {', '.join(header) or 'empty'})")


def read_numbers(path: Path, country_code: str) -> tuple[list[str], list[tuple[int, str]]]:
    """Valid E.164 numbers in file order (repeats kept: the store drops them) and the rows that
    are not numbers, with why. Reasons never repeat the number (it may end up in a log)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except OSError as exc:
        raise CampaignError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CampaignError(f"{path} is not UTF-8 text (save it as CSV UTF-8)") from exc
    if not rows:
        raise CampaignError(f"{path} is empty")
    column = _numbers_column(rows[0])
    numbers: list[str] = []
    invalid: list[tuple[int, str]] = []
    for line_no, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        raw = row[column] if column < len(row) else ""
        try:
            numbers.append(to_e164(raw, country_code))
        except BadNumber as exc:
            reason = str(exc).replace(repr(raw), "the number")
            invalid.append((line_no, reason))
    return numbers, invalid


def import_campaign(store: Store, pseudonymiser: Pseudonymiser, path: Path, name: str,
                    survey: str | None, country_code: str = "",
                    dedup_window_s: float = 0.0) -> ImportReport:
    if store.query("SELECT 1 FROM campaigns WHERE name = ?", [name]):
        raise CampaignError(f"a campaign named {name!r} exists; choose another name")
    numbers, invalid = read_numbers(path, country_code)
    campaign_id = f"{store.box_id}.c{secrets.token_hex(3)}"
    pairs = [(n, pseudonymiser.pseudonym(n)) for n in numbers]
    counts = store.outbound.add_campaign(campaign_id, name, survey, pairs, len(invalid),
                                         dedup_window_s=dedup_window_s)
    return ImportReport(campaign_id, counts["queued"], counts["duplicates"],
                        counts["opted_out"], invalid)
