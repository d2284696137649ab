"""connect: Studio's connect-call-to (hand the caller to a number).

Authoring::

    {"name": "operator", "type": "connect", "noun": "number", "to": "+254700000000",
     "timeout": 30, "callCompleted": "goodbye", "hangup": null}

With ``noun`` ``number`` (or ``number-multi``: the first number of the list) the engine asks
the line to transfer the caller (``Connect``; ``Call.transfer``: a SIP line sends REFER to its
gateway, which calls the number and connects the caller; a modem holds the caller, calls the
number and joins the two by explicit call transfer). Then:

- the caller was connected (``completed``): the box has left the call; the call ends with the
  survey's closing disposition and a ``transferred`` note. What follows ``callCompleted`` does
  not run on the box (the caller is talking to the number);
- busy, no answer, failed: the caller is still with the box and the state follows
  ``callCompleted`` with ``{{widgets.X.DialCallStatus}}`` = ``busy``, ``no-answer`` or
  ``failed``, as Studio does;
- a line that cannot transfer (the console, a module without ECT), another noun (client,
  SIP endpoint, conference), an empty ``to``, or ``"offline": "fail"``: ``callCompleted`` at
  once with ``DialCallStatus`` = ``failed`` and ``offline`` = true, as before lines could
  transfer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, ClassVar

from edge.survey._model import Settings, State, Transition
from edge.survey._problems import shown

from ._base import CompileContext, Render, Step
from ._cloud import CloudKind

TRANSFER, FAIL = "transfer", "fail"
NOUNS = ("number", "number-multi")  # the nouns a line can transfer to
DEFAULT_TIMEOUT_S = 30.0  # Studio's default ring time
# The line's statuses in Studio's DialCallStatus words ("unsupported": the box could not try).
DIAL_CALL_STATUS = {"completed": "completed", "busy": "busy", "no-answer": "no-answer",
                    "failed": "failed", "unsupported": "failed"}


class ConnectCall(CloudKind):
    name = "connect"
    widget = "connect-call-to"
    events = ("callCompleted", "hangup")
    failure = "callCompleted"
    fields = frozenset({"noun", "to", "caller_id", "timeout", "record", "sip_endpoint",
                        "sip_username", "sip_password"})
    offline_outputs: ClassVar[Mapping[str, Any]] = {"offline": True, "DialCallStatus": "failed"}

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        policy = raw.get("offline", ctx.settings.offline.get(self.name, TRANSFER))
        name = raw.get("name")
        if policy not in (TRANSFER, FAIL):
            ctx.problem(f"{path}.offline", f"got {shown(policy)}, expected 'transfer' (the "
                        "line hands the caller over when it can) or 'fail'", name)
            policy = FAIL
        # The shared compile knows only "fail" and "queue": it checks the rest.
        props, transitions = super().compile({**raw, "offline": FAIL}, path, following, ctx)
        props["offline"] = policy
        props["timeout_s"] = _timeout(raw.get("timeout", DEFAULT_TIMEOUT_S), f"{path}.timeout",
                                      ctx, name)
        return props, transitions

    def step(self, state: State, render: Render, settings: Settings) -> Step:
        fields = state.props["fields"]
        note = {"state": state.name, "widget": self.widget, "offline": state.props["offline"]}
        number = ""
        if state.props["offline"] == TRANSFER and fields.get("noun", "number") in NOUNS:
            number = render(str(fields.get("to", ""))).split(",")[0].strip()
        if not number:
            return Step(self.failure, outputs=dict(self.offline_outputs), note=note)
        return Step(self.failure, note=note,
                    connect=(number, state.props.get("timeout_s", DEFAULT_TIMEOUT_S)))

    def ended(self, status: str) -> tuple[str | None, dict[str, Any]]:
        """The event to follow once the line reported ``status`` (None: the caller was
        handed over, the call is over for the box) and the widget's outputs."""
        outputs: dict[str, Any] = {"DialCallStatus": DIAL_CALL_STATUS.get(status, "failed")}
        if status == "unsupported":
            outputs["offline"] = True
        return (None if status == "completed" else self.failure), outputs


def _timeout(value: Any, path: str, ctx: CompileContext, name: str | None) -> float:
    if isinstance(value, str):  # Studio writes numbers as text
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 5 <= value <= 600:
        ctx.problem(path, f"expected ring seconds from 5 to 600, got {shown(value)}", name)
        return DEFAULT_TIMEOUT_S
    return float(value)


KIND = ConnectCall()
