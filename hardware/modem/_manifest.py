"""What a module holds, as the box knows it: one JSON file per module in the data dir, keyed by
the module's IMEI (its storage goes where the module goes; a SIM swap changes nothing), by the
SIM's ICCID only when the module gave no IMEI.

``files``: name on the module -> the converted file's SHA-256 and size, the source recording's
SHA-256, how long it plays, and the prompts it serves. ``failed``: source SHA-256 -> why it
is not on the module (conversion or upload refused), with the prompts that fall back to TTS.
Written whole (temporary file, then rename): a power cut leaves the old manifest or the new.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Held:
    name: str  # on the module
    sha256: str
    size: int
    source: str
    seconds: float
    prompts: list[str] = field(default_factory=list)


@dataclass
class Failed:
    source: str
    reason: str
    prompts: list[str] = field(default_factory=list)


@dataclass
class Manifest:
    identity: str
    path: Path | None = None
    files: dict[str, Held] = field(default_factory=dict)
    failed: dict[str, Failed] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path, identity: str) -> Manifest:
        path = directory / f"{_safe(identity)}.json"
        manifest = cls(identity, path)
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return manifest  # none yet, or unreadable: the module is checked file by file
        for name, entry in raw.get("files", {}).items():
            try:
                manifest.files[name] = Held(name, entry["sha256"], int(entry["size"]),
                                            entry["source"], float(entry["seconds"]),
                                            list(entry.get("prompts", [])))
            except (KeyError, TypeError, ValueError):
                continue
        for source, entry in raw.get("failed", {}).items():
            manifest.failed[source] = Failed(source, str(entry.get("reason", "")),
                                             list(entry.get("prompts", [])))
        return manifest

    def by_source(self, source: str) -> Held | None:
        return next((h for h in self.files.values() if h.source == source), None)

    def save(self) -> None:
        if self.path is None:
            return
        body = {"module": self.identity,
                "files": {n: {"sha256": h.sha256, "size": h.size, "source": h.source,
                              "seconds": round(h.seconds, 3), "prompts": sorted(h.prompts)}
                          for n, h in sorted(self.files.items())},
                "failed": {s: {"reason": f.reason, "prompts": sorted(f.prompts)}
                           for s, f in sorted(self.failed.items())}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(body, handle, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        finally:
            Path(tmp).unlink(missing_ok=True)


def _safe(identity: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", identity) or "unknown"
