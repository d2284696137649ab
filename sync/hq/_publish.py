"""``edgecall hq publish``: make a survey (and the audio beside it) the current pack."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..pull import _NAME


def publish_pack(surveys_dir: Path, survey_file: Path) -> dict[str, object]:
    """Copy the survey's directory to ``surveys_dir/<id>/<version>/`` and point
    ``surveys_dir/current.json`` (the manifest boxes fetch) at it. Returns the manifest."""
    from edge.survey import load_survey

    survey = load_survey(survey_file)  # raises SurveyError: never publish a broken survey
    survey_id, version = survey.id, str(survey.version)
    for value in (survey_id, version):
        if not _NAME.fullmatch(value):
            raise ValueError(f"survey id/version {value!r} must be letters, digits, . - _")
    source = survey_file.parent
    target = surveys_dir / survey_id / version
    if target.exists():
        raise ValueError(f"{survey_id} version {version} is already published: bump the "
                         "survey's version")
    files = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        rel = path.relative_to(source)
        if not all(_NAME.fullmatch(part) for part in rel.parts):
            continue  # hidden and oddly named files stay behind
        data = path.read_bytes()
        files.append({"path": rel.as_posix(), "sha256": hashlib.sha256(data).hexdigest(),
                      "size": len(data)})
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / rel)
    manifest = {"id": survey_id, "version": version, "survey": survey_file.name,
                "files": files}
    fd, tmp = tempfile.mkstemp(dir=surveys_dir, prefix=".current.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1)
    os.replace(tmp, surveys_dir / "current.json")
    return manifest
