"""Reading an XLSForm workbook: its survey, choices and settings sheets as rows of column ->
value, each with its spreadsheet row number for messages ("survey row 7")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Language names authors write without a code ("label::English").
_NAMES = {"english": "en", "french": "fr", "français": "fr", "francais": "fr", "arabic": "ar",
          "العربية": "ar", "spanish": "es", "español": "es", "swahili": "sw", "kiswahili": "sw",
          "portuguese": "pt", "português": "pt", "somali": "so", "amharic": "am", "hausa": "ha",
          "hindi": "hi", "bengali": "bn", "burmese": "my", "russian": "ru", "ukrainian": "uk",
          "dari": "prs", "pashto": "ps", "tigrinya": "ti", "oromo": "om", "turkish": "tr"}
_CODE = re.compile(r"\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)\)\s*$")


class SheetError(Exception):
    pass


@dataclass
class Row:
    number: int  # the spreadsheet's row number (the header is row 1)
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


def language_code(name: str) -> str:
    """``English (en)`` -> ``en``; ``Kiswahili`` -> ``sw``; else the name in lower case."""
    name = name.strip()
    match = _CODE.search(name)
    if match:
        return match.group(1).lower()
    return _NAMES.get(name.lower(), re.sub(r"\W+", "_", name.lower()).strip("_") or "default")


def read_workbook(path: Path) -> dict[str, list[Row]]:
    """Sheet name (lower case) -> its rows below the header; blank rows left out."""
    import openpyxl  # imported here: only the XLSForm import needs it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError as exc:
        raise SheetError(f"cannot read {path}: no such file") from exc
    except Exception as exc:  # openpyxl raises many kinds for a file that is no workbook
        raise SheetError(f"cannot read {path} as an .xlsx workbook ({type(exc).__name__}: "
                         f"{exc}); save the form as .xlsx") from exc
    sheets: dict[str, list[Row]] = {}
    try:
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                continue
            names = [_column(h) for h in header]
            found: list[Row] = []
            for number, values in enumerate(rows, start=2):
                cells = {name: _text(v) for name, v in zip(names, values, strict=False)
                         if name and _text(v)}
                if cells:
                    found.append(Row(number, cells))
            sheets[sheet.title.strip().lower()] = found
    finally:
        book.close()
    return sheets


def _column(value: Any) -> str:
    """Header cells as XLSForm means them: ``label::English (en)``, ``media::audio::fr``...
    Spaces around the ``::`` do not count; the language part keeps its case."""
    if value is None:
        return ""
    parts = [p.strip() for p in str(value).split("::")]
    if parts[0].lower() == "media" and len(parts) > 1:
        parts = parts[1:]
    parts[0] = parts[0].lower()
    if parts[0] in ("bind", "body") and len(parts) > 1:  # bind::relevant -> relevant
        parts = parts[1:]
        parts[0] = parts[0].lower()
    return "::".join(parts)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
