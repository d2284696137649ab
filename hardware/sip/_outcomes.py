"""What the answer to our INVITE means for a dial attempt (:data:`edge.lines.DIAL_OUTCOMES`).
Pure: fed how the INVITE ended (``_compat.Placed``), it returns (outcome, detail).

=====================================  ==============  ==========================================
answer                                 outcome         why (RFC 3261 21; RFC 3398 for GSM causes)
=====================================  ==============  ==========================================
2xx with a usable SDP answer           answered
486 Busy Here, 600 Busy Everywhere     busy            the callee is in a call
603 Decline                            rejected        the callee declined the call
404 Not Found, 410 Gone, 484 Address   unreachable     no such number (cause 1 unallocated, 28)
Incomplete, 604 Does Not Exist
480 Temporarily Unavailable, 408       no-answer if    480: callee contacted but not available
Request Timeout                        it rang, else   (cause 19 "no answer, user alerted"); the
                                       unreachable     same codes before any ringing mean the
                                                       phone was never reached: switched off, out
                                                       of coverage (cause 20 "subscriber absent"
                                                       -> 480, 18 "no user responding" -> 408),
                                                       as a modem's NO CARRIER before it alerted
our ring timeout: CANCEL, then 487     no-answer       it rang and nobody answered (as a modem)
no answer at all from the gateway      failed          the next hop is down or unreachable (timer
(timer B, or nothing by the ring                       B's timeout; not the callee's doing)
timeout)
401/407 we cannot answer, 403, 3xx,    failed          our side: credentials, the gateway's
488/606, 5xx, other 4xx/6xx                            rules, codecs, a gateway in trouble (503:
                                                       no free GSM channel)
2xx with an unusable SDP answer        failed          ACKed, then ended with a BYE
=====================================  ==============  ==========================================
"""

from __future__ import annotations

from ._compat import Placed

BUSY = frozenset({486, 600})
REJECTED = frozenset({603})
UNREACHABLE = frozenset({404, 410, 484, 604})
NOT_THERE = frozenset({408, 480})  # no-answer once it rang, else unreachable


def dial_outcome(placed: Placed, ring_timeout_s: float) -> tuple[str, str]:
    """(outcome, detail) of one INVITE; the detail is for the log and never holds the number."""
    status, said = placed.status, placed.phrase or str(placed.status)
    if placed.problem is not None:
        return "failed", placed.problem
    if 200 <= status < 300:
        return "answered", said
    if status == 0:
        if placed.cancelled and placed.provisional:
            return "no-answer", f"no answer in {ring_timeout_s:g} s"
        return "failed", "no response from the gateway"
    if status == 487:
        if placed.cancelled:
            return "no-answer", f"no answer in {ring_timeout_s:g} s (487 after our CANCEL)"
        return ("no-answer" if placed.rang else "failed"), said
    if status in BUSY:
        return "busy", said
    if status in REJECTED:
        return "rejected", said
    if status in UNREACHABLE:
        return "unreachable", said
    if status in NOT_THERE:
        return ("no-answer", f"{said} after ringing") if placed.rang else (
            "unreachable", f"{said} before it rang")
    if 300 <= status < 400:
        return "failed", f"{said} (redirects are not followed)"
    return "failed", said
