"""Survey packs flow down: verified, stored under data_dir/surveys, switched atomically."""

from __future__ import annotations

import json

import pytest

from edge.server import SurveySource
from edge.survey import BUILTIN_DEMO
from sync.hq import publish_pack
from sync.pull import PullError, SurveyPuller

from .conftest import SECRET


def _pack(tmp_path, version: str):
    src = tmp_path / f"src{version}"
    src.mkdir()
    doc = json.loads(BUILTIN_DEMO.read_text())
    doc["version"] = version
    (src / "survey.json").write_text(json.dumps(doc))
    (src / "note.txt").write_text("an extra file that travels with the pack")
    return src / "survey.json"


@pytest.fixture
def published(tmp_path, hq):
    surveys = tmp_path / "published"
    surveys.mkdir()
    hq.settings.surveys_dir = surveys
    publish_pack(surveys, _pack(tmp_path, "7"))
    return surveys


def _puller(hq, data_dir, secret=SECRET):
    return SurveyPuller(hq.url, "box-1", secret, data_dir)


def test_pull_verifies_stores_and_points(tmp_path, hq, published):
    data_dir = tmp_path / "box"
    assert _puller(hq, data_dir)() == "now using demo-needs version 7"
    pointer = json.loads((data_dir / "surveys" / "current.json").read_text())
    assert pointer["id"] == "demo-needs" and pointer["version"] == "7"
    assert (data_dir / "surveys" / "demo-needs" / "7" / "note.txt").is_file()
    # The call server's survey source follows the pointer.
    assert SurveySource(BUILTIN_DEMO, data_dir).current().version == "7"
    assert _puller(hq, data_dir)() is None  # already current: nothing fetched
    publish_pack(published, _pack(tmp_path, "8"))
    assert _puller(hq, data_dir)() == "now using demo-needs version 8"
    assert SurveySource(BUILTIN_DEMO, data_dir).current().version == "8"


def test_tampered_file_is_refused_and_pointer_kept(tmp_path, hq, published):
    data_dir = tmp_path / "box"
    _puller(hq, data_dir)()
    before = (data_dir / "surveys" / "current.json").read_text()
    publish_pack(published, _pack(tmp_path, "9"))
    (published / "demo-needs" / "9" / "note.txt").write_text("changed after publishing")
    with pytest.raises(PullError, match="sha256"):
        _puller(hq, data_dir)()
    assert (data_dir / "surveys" / "current.json").read_text() == before
    assert not (data_dir / "surveys" / "demo-needs" / "9").exists()


def test_manifest_signed_with_another_secret_is_refused(tmp_path, hq, published):
    # HQ gives the manifest only to a request its box signed: another secret gets a 401.
    with pytest.raises(PullError, match="HTTP 401"):
        _puller(hq, tmp_path / "box", secret=b"some other secret")()
    assert not (tmp_path / "box" / "surveys" / "current.json").exists()


def test_nothing_published(tmp_path, hq):
    hq.settings.surveys_dir = tmp_path / "empty"
    (tmp_path / "empty").mkdir()
    assert _puller(hq, tmp_path / "box")() is None
