"""Our To-tags (pyVoIP's ``tagLibrary``), bounded.

Stock SIPClient adds an entry for every Call-ID it ever answers and never removes one, and its
``gen_tag`` keeps every tag it made in a list it scans for each new tag: a flood of INVITEs
(100,000 in the fuzz test) grows both for the life of the process, and each new tag costs more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

KEEP_ALWAYS = "register"  # pyVoIP's own entry for REGISTER


class TagLibrary(dict[str, str]):
    """A dict (pyVoIP indexes it) keeping the newest ``max_entries`` tags, and always those of
    Call-IDs ``keep`` says are live: a call's BYE and re-INVITE answers need its tag."""

    def __init__(self, initial: dict[str, Any], keep: Callable[[str], bool],
                 max_entries: int = 4096) -> None:
        super().__init__(initial)
        self._keep = keep
        self._max = max_entries

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key, value)
        if len(self) > 2 * self._max:  # trimmed in batches: amortised O(1) per entry
            self.trim()

    def trim(self) -> None:
        excess = len(self) - self._max
        for key in list(self):  # insertion order: oldest first
            if excess <= 0:
                break
            if key != KEEP_ALWAYS and not self._keep(key):
                del self[key]
                excess -= 1
