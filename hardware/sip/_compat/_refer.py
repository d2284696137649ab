"""A blind transfer by REFER (RFC 3515), as a plain object: the gateway's answer to the REFER
and the NOTIFYs that follow (each carrying a ``message/sipfrag`` status line, RFC 3420) come
in; at most one outcome goes out, in Studio's DialCallStatus words.

    202 Accepted -> NOTIFY "SIP/2.0 100 Trying" -> NOTIFY "SIP/2.0 200 OK"   completed
    REFER refused (405, 501, 403, ...) or never answered                     failed
    NOTIFY with 486/600/603                                                  busy
    NOTIFY with 408/480/487                                                  no-answer
    NOTIFY with any other final status, or no final NOTIFY in time           failed

No threads or clocks: the call feeds it, and the line's timer calls ``timed_out``.
"""

from __future__ import annotations

import re

_SIPFRAG = re.compile(rb"^\s*SIP/2\.0\s+(\d{3})\b")
_BUSY = frozenset({486, 600, 603})
_NO_ANSWER = frozenset({408, 480, 487})


def sipfrag_status(body: bytes) -> int | None:
    """The status code of a ``message/sipfrag`` body ("SIP/2.0 180 Ringing"), else None."""
    match = _SIPFRAG.match(body)
    return int(match.group(1)) if match else None


def outcome_of(code: int) -> str:
    if 200 <= code < 300:
        return "completed"
    if code in _BUSY:
        return "busy"
    if code in _NO_ANSWER:
        return "no-answer"
    return "failed"


class Transfer:
    """One REFER's progress. Each method returns ``(status, detail)`` when the transfer has
    just ended, else None; after the first outcome every later report is ignored."""

    def __init__(self) -> None:
        self.accepted = False
        self.ended = False
        self.last_progress: int | None = None

    def answered(self, code: int | None) -> tuple[str, str] | None:
        """The REFER's final response (None: none came)."""
        if code is None:
            return self._end("failed", "the gateway did not answer the REFER")
        if 200 <= code < 300:
            self.accepted = True
            return None
        return self._end("failed", f"the gateway refused the transfer ({code})")

    def notified(self, body: bytes, terminated: bool) -> tuple[str, str] | None:
        """A NOTIFY of the refer subscription: its sipfrag and whether the subscription ended
        (Subscription-State: terminated)."""
        code = sipfrag_status(body)
        if code is not None:
            self.last_progress = code
        if code is not None and code >= 200:
            return self._end(outcome_of(code), f"the number's side answered {code}")
        if terminated:
            return self._end("failed", "the transfer ended without a final status")
        return None

    def hung_up(self) -> tuple[str, str] | None:
        """The gateway ended our leg before a final NOTIFY. Some gateways do so as soon as
        they take the transfer on: accepted means the caller went over."""
        if self.accepted:
            return self._end("completed", "the gateway ended our leg after accepting the "
                             "transfer")
        return self._end("failed", "the call ended before the gateway took the transfer")

    def timed_out(self) -> tuple[str, str] | None:
        seen = f" (last heard {self.last_progress})" if self.last_progress else ""
        return self._end("failed", "no final word on the transfer in time" + seen)

    def _end(self, status: str, detail: str) -> tuple[str, str] | None:
        if self.ended:
            return None
        self.ended = True
        return status, detail
