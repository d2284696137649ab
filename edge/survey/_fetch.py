"""``edgecall survey fetch-audio``: bring the recordings a survey names by URL (Studio's
``play``) onto the box once, while online, so every line plays them offline.

Each prompt ``{"audio": "audio/welcome.wav", "url": "https://..."}`` whose file is missing is
downloaded, checked (the lines play WAV: PCM, mu-law, A-law) and written atomically beside the
survey; a file already there is kept (the cache). HQ's survey pack ships the files too.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from ._audio import audio_problem, wav_problem


def sources(raw: Any) -> Iterator[tuple[str, str]]:
    """(audio path, url) of every prompt with a url, anywhere in the authoring JSON."""
    if isinstance(raw, dict):
        if isinstance(raw.get("url"), str) and isinstance(raw.get("audio"), str):
            yield raw["audio"], raw["url"]
        for value in raw.values():
            yield from sources(value)
    elif isinstance(raw, list):
        for value in raw:
            yield from sources(value)


def fetch_audio(survey_file: Path, session: requests.Session | None = None,
                timeout: float = 30.0) -> list[tuple[str, str]]:
    """Fetch what is missing; returns (audio path, what happened) for each source."""
    raw = json.loads(survey_file.read_text(encoding="utf-8"))
    session = session or requests.Session()
    report: list[tuple[str, str]] = []
    for audio, url in dict(sources(raw)).items():
        target = Path(audio) if Path(audio).is_absolute() else survey_file.parent / audio
        if audio_problem(target) is None:
            report.append((audio, "already here"))
            continue
        try:
            response = session.get(url, timeout=timeout)
        except (requests.RequestException, OSError) as exc:
            report.append((audio, f"not fetched: {url}: {exc}"))
            continue
        if response.status_code != 200:
            report.append((audio, f"not fetched: {url}: HTTP {response.status_code}"))
            continue
        problem = wav_problem(response.content) if response.content else "is empty"
        if problem:
            report.append((audio, f"not kept: {url} {problem}"))
            continue
        write_atomically(target, response.content)
        report.append((audio, f"fetched {len(response.content)} bytes"))
    return report


def write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)
