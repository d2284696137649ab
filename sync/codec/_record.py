"""What a batch carries: records, and the one error every malformed batch becomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class CodecError(ValueError):
    """Bytes that are not a batch of this format."""


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    id: str
    version: int
    kind: str
    created_utc: str
    body: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "id": self.id, "version": self.version, "kind": self.kind,
                "created_utc": self.created_utc, "body": self.body}
