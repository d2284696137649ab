"""Import an exported Twilio Studio flow (Voice) as an edgecall survey that runs offline.

Studio's flow definition is already a graph of widgets with ``transitions`` of event -> next;
each widget type has its module in ``widgets/`` (its events, and the edgecall states it
becomes); cases as data in tests/edge/survey/studio/testdata/<widget>.json. Widgets that need
Twilio's cloud take their offline path (see edge/survey/nodes/_cloud.py) unless ``strict``.

    import_flow(flow, ImportOptions(...)) -> Imported(survey, files, warnings)
    import_file(path, options) -> Imported
"""

from __future__ import annotations

import json
from pathlib import Path

from edge.survey._problems import Problem

from ._context import ImportOptions, slug
from ._flow import Imported, StudioImportError, import_flow, offline_option


def import_file(path: Path, options: ImportOptions | None = None) -> Imported:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StudioImportError([Problem("$", f"cannot read {path}: {exc}")]) from exc
    if not text.strip():
        raise StudioImportError([Problem("$", "file is empty: export the flow from Studio "
                                         "(the flow's menu, Export to JSON)")])
    try:
        flow = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StudioImportError([Problem("$", f"not valid JSON: line {exc.lineno} column "
                                         f"{exc.colno}: {exc.msg}")]) from exc
    return import_flow(flow, options, survey_id=slug(path.stem).replace("_", "-"))


__all__ = ["ImportOptions", "Imported", "StudioImportError", "import_file", "import_flow",
           "offline_option"]
