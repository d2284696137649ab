"""Import an XLSForm (the spreadsheet format of Kobo, ODK, SurveyCTO) as an edgecall survey.

Read with openpyxl: the subset a keypad can answer is small and its errors must name the
sheet row in the author's terms (see docs/surveys.md for the mapping).

    import_xlsform(path) -> (authoring JSON, files, warnings)   raises XlsFormError
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from edge.survey._problems import Problem

from ._convert import XlsFormError, convert
from ._sheets import SheetError, read_workbook


def import_xlsform(path: Path) -> tuple[dict[str, Any], dict[str, bytes], list[Problem]]:
    try:
        sheets = read_workbook(path)
    except SheetError as exc:
        raise XlsFormError([Problem("file", str(exc))]) from exc
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem).strip("-") or "form"
    survey, warnings = convert(sheets, stem)
    return survey, {}, warnings


__all__ = ["XlsFormError", "import_xlsform"]
