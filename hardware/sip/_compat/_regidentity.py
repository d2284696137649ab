"""Who the box is to its registrar, kept across restarts: the REGISTER Call-ID, the CSeq last
used and the instance id (RFC 3261 section 10.2, RFC 5626 ``+sip.instance``).

pyVoIP 1.6.8 derives the Call-ID from a counter hash, so every pyVoIP box sends the same
Call-IDs, and starts CSeq at 1 on each run: a registrar that keeps the binding sees a lower CSeq
for the same Call-ID after a restart and may refuse it. Here the Call-ID and instance are random
per box, stored in the data dir with the CSeq, which only goes up.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import threading
import uuid
from pathlib import Path

log = logging.getLogger(__name__)

FILENAME = "sip-registration.json"


class RegistrationIdentity:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.call_id = f"{secrets.token_hex(16)}@edgecall"
        self.instance = str(uuid.uuid4())
        self.cseq = 0
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text())
            call_id, instance, cseq = data["call_id"], data["instance"], data["cseq"]
            if not (isinstance(call_id, str) and isinstance(instance, str)
                    and isinstance(cseq, int) and call_id and 0 <= cseq < 2**31):
                raise ValueError("unexpected content")
        except FileNotFoundError:
            self._save()
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # A damaged file: start a new identity (the registrar sees a new Call-ID, which
            # RFC 3261 10.3 allows) rather than refuse to register.
            log.warning("%s unreadable (%s): registering with a new Call-ID", path, exc)
            self._save()
            return
        self.call_id, self.instance, self.cseq = call_id, instance, cseq

    def next_cseq(self) -> int:
        """The CSeq for the next REGISTER, saved before it is sent."""
        with self._lock:
            self.cseq += 1
            if self.cseq >= 2**31:  # RFC 3261 8.1.1.5: below 2**31; a new Call-ID starts over
                self.call_id, self.cseq = f"{secrets.token_hex(16)}@edgecall", 1
            self._save()
            return self.cseq

    def _save(self) -> None:
        if self.path is None:
            return
        data = json.dumps({"call_id": self.call_id, "instance": self.instance, "cseq": self.cseq})
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:  # registering matters more than remembering
            log.warning("could not save %s: %s", self.path, exc)
            with contextlib.suppress(OSError):
                tmp.unlink()
