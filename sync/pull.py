"""Pull-down of survey packs that HQ publishes.

HQ serves a manifest at ``<base>/v1/surveys/current.json``::

    {"id": "demo-needs", "version": "4", "survey": "survey.json",
     "files": [{"path": "survey.json", "sha256": "...", "size": 1234},
               {"path": "audio/en/welcome.wav", "sha256": "...", "size": 56789}]}

signed like batches (HMAC-SHA256 of "<timestamp>." + body with the box's secret, headers
``X-Edgecall-Timestamp`` / ``X-Edgecall-Signature``), and each file at
``<base>/v1/surveys/<id>/<version>/<path>``. The box downloads into a temporary directory,
checks every size and hash, loads the survey (it must compile and carry the manifest's id and
version), renames the directory to ``data_dir/surveys/<id>/<version>/`` and then replaces
``data_dir/surveys/current.json`` (write-temp + os.replace). The call server reads that
pointer at the start of each call, so a switch never happens inside a call.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from edge.config import Config

from ._hq import base_url
from ._signing import HEADER_SIGNATURE, HEADER_TIMESTAMP, signed_get, verify

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_FILE = 64 * 1024 * 1024


class PullError(Exception):
    pass


def _safe_path(path: str) -> PurePosixPath:
    pure = PurePosixPath(path)
    if pure.is_absolute() or not pure.parts or any(
            not _NAME.fullmatch(part) for part in pure.parts):
        raise PullError(f"unsafe file path in manifest: {path!r}")
    return pure


def _check_manifest(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise PullError("manifest is not an object")
    for key in ("id", "version"):
        if not isinstance(doc.get(key), str) or not _NAME.fullmatch(doc[key]):
            raise PullError(f"manifest {key} missing or unsafe: {doc.get(key)!r}")
    files = doc.get("files")
    if not isinstance(files, list) or not files:
        raise PullError("manifest lists no files")
    for f in files:
        if not (isinstance(f, dict) and isinstance(f.get("path"), str)
                and isinstance(f.get("sha256"), str) and isinstance(f.get("size"), int)
                and 0 <= f["size"] <= MAX_FILE):
            raise PullError(f"bad file entry {f!r}")
        _safe_path(f["path"])
    survey = doc.get("survey", "survey.json")
    if survey not in {f["path"] for f in files}:
        raise PullError(f"survey file {survey!r} is not among the files")
    return doc


class SurveyPuller:
    def __init__(self, base: str, box_id: str, secret: bytes, data_dir: Path,
                 verify_tls: bool | str = True, timeout: tuple[float, float] = (20, 120),
                 wall: Callable[[], float] = time.time, window_s: float = 3600.0,
                 session: requests.Session | None = None) -> None:
        self.base = base.rstrip("/")
        self.box_id = box_id
        self.secret = secret
        self.root = data_dir / "surveys"
        self.verify_tls = verify_tls
        self.timeout = timeout
        self.wall = wall
        self.window_s = window_s
        self.session = session or requests.Session()

    def _get(self, url: str) -> requests.Response:
        try:
            # Signed over the path: HQ gives survey packs only to its boxes.
            headers = signed_get(self.secret, int(self.wall() * 1000), self.box_id,
                                 urlsplit(url).path)
            response = self.session.get(url, headers=headers, timeout=self.timeout,
                                        verify=self.verify_tls)
        except (requests.RequestException, OSError) as exc:
            raise PullError(f"{url}: {exc}") from exc
        return response

    def current(self) -> dict[str, Any] | None:
        pointer = self.root / "current.json"
        try:
            return json.loads(pointer.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def __call__(self) -> str | None:
        """Fetch and switch to HQ's current pack; returns what happened (None: nothing
        published or already current)."""
        response = self._get(self.base + "/v1/surveys/current.json")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise PullError(f"manifest: HTTP {response.status_code}")
        stamp = response.headers.get(HEADER_TIMESTAMP, "")
        if not verify(self.secret, stamp, response.content,
                      response.headers.get(HEADER_SIGNATURE, "")):
            raise PullError("manifest signature does not verify (not HQ, or wrong hq_secret)")
        if abs(int(stamp) / 1000 - self.wall()) > self.window_s:
            raise PullError("manifest signature is stale (replayed, or the clock is off)")
        try:
            manifest = _check_manifest(json.loads(response.content))
        except ValueError as exc:
            raise PullError(f"manifest is not JSON: {exc}") from exc
        survey_file = manifest.get("survey", "survey.json")
        current = self.current()
        if current and (current.get("id"), current.get("version")) == (
                manifest["id"], manifest["version"]):
            return None
        target = self.root / manifest["id"] / manifest["version"]
        if not (target / survey_file).is_file():
            self._download(manifest, target)
        self._check_survey(target / survey_file, manifest)
        self._point(manifest, f"{manifest['id']}/{manifest['version']}/{survey_file}",
                    _sha256(target / survey_file))
        return f"now using {manifest['id']} version {manifest['version']}"

    def _download(self, manifest: dict[str, Any], target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{manifest['version']}.", dir=target.parent))
        try:
            for entry in manifest["files"]:
                rel = _safe_path(entry["path"])
                url = (f"{self.base}/v1/surveys/{quote(manifest['id'])}/"
                       f"{quote(manifest['version'])}/{quote(str(rel))}")
                response = self._get(url)
                if response.status_code != 200:
                    raise PullError(f"{rel}: HTTP {response.status_code}")
                data = response.content
                if len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != \
                        entry["sha256"]:
                    raise PullError(f"{rel}: size or sha256 differs from the manifest")
                path = staging.joinpath(*rel.parts)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            self._check_survey(staging / manifest.get("survey", "survey.json"), manifest)
            _fsync_tree(staging)
            if target.exists():  # a broken earlier copy (its pointer was never written)
                shutil.rmtree(target)
            os.replace(staging, target)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    @staticmethod
    def _check_survey(path: Path, manifest: dict[str, Any]) -> None:
        from edge.survey import SurveyError, load_survey

        try:
            survey = load_survey(path)
        except SurveyError as exc:
            raise PullError(f"published survey does not load: {exc}") from exc
        if (survey.id, str(survey.version)) != (manifest["id"], manifest["version"]):
            raise PullError(f"survey file says {survey.id} version {survey.version}, "
                            f"manifest says {manifest['id']} version {manifest['version']}")

    def _point(self, manifest: dict[str, Any], rel: str, digest: str) -> None:
        pointer = self.root / "current.json"
        doc = {"id": manifest["id"], "version": manifest["version"], "path": rel,
               "sha256": digest}
        fd, tmp = tempfile.mkstemp(prefix=".current.", dir=self.root)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(doc, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, pointer)
        _fsync_dir(self.root)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        else:
            _fsync_dir(path)
    _fsync_dir(root)


def puller_for(config: Config) -> SurveyPuller:
    from ._setup import _secret

    hq = config.sections["hq"]
    verify_tls: bool | str = hq["verify_tls"]
    if verify_tls and hq["ca_file"]:
        verify_tls = str(config.resolve(hq["ca_file"]))
    return SurveyPuller(base_url(hq["url"]), config.box_id, _secret(config, "hq_secret"),
                        config.data_dir, verify_tls,
                        (hq["connect_timeout_s"], hq["read_timeout_s"]))
