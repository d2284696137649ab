"""Placing one call: our INVITE from its first send to a final answer (RFC 3261 13.2, the UAC).

The transaction's timers are ``_invite``'s (sans I/O) run by ``_invites`` on the SIP thread;
this object decides what each answer means for the call and sends what follows from it:

- 1xx: the phone rings (180/183 note that it rang). Early media is not played or recorded;
  the SDP of a 183 is kept only for a 2xx that comes without one (some gateways);
- 2xx: the dialog (To-tag, Contact, reversed Record-Route), its ACK (the INVITE's CSeq and
  credentials, the dialog's route), the answer checked by ``_sdp``; an unusable one: ACK then
  BYE. A retransmitted 2xx is ACKed again; a 2xx from another fork is ACKed and BYEd;
- 401/407: the transaction ACKs it, and the INVITE is sent again with digest credentials
  (``_digest``; a challenge answered once that comes back means refused);
- other 300-699: the transaction ACKs it; the final code is the attempt's result;
- the ring timeout (``wait``) or a hang-up while it rings: CANCEL, once a provisional came
  (RFC 3261 9.1 forbids it before), then the 487 (ACKed) or a 2xx that crossed it.

``wait`` runs on the dialling thread; everything else on the SIP thread.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._dialog import Dialog, InviteRequest, tag_of
from ._digest import DigestAnswerer, next_credentials
from ._message import RobustSIPMessage, uri_of
from ._routeset import RouteSet
from ._transaction import T1

if TYPE_CHECKING:
    from ._client import HardenedSIPClient
    from ._placed import PlacedCall

log = logging.getLogger(__name__)

Address = tuple[str, int]


@dataclass(frozen=True)
class Placed:
    """How an INVITE of ours ended. ``status`` 0: no final response came (nothing at all from
    the next hop, or nothing after our CANCEL). ``problem``: why there is no call even though
    the INVITE may have been answered (an unusable SDP answer, credentials refused...)."""

    status: int
    phrase: str = ""  # the status line after "SIP/2.0 ", for the log
    rang: bool = False  # a 180 or 183 came: the called phone rang
    provisional: bool = False  # any 1xx came
    cancelled: bool = False  # we cancelled it (ring timeout or hang-up)
    problem: str | None = None

    @property
    def answered(self) -> bool:
        return 200 <= self.status < 300 and self.problem is None


def _values(response: Any, name: str) -> list[str]:
    return response.header_values(name) if isinstance(response, RobustSIPMessage) else []


def _status_line(response: Any) -> str:
    """"486 Busy Here": the code as received (an unknown one counts as its x00) and phrase."""
    try:
        return str(response.heading.decode("utf-8", "replace").split(" ", 1)[1]).strip()
    except (AttributeError, IndexError):
        return str(int(response.status))


class Placing:
    def __init__(self, client: HardenedSIPClient, call: PlacedCall, invite: InviteRequest,
                 destination: Address, digest: DigestAnswerer | None = None,
                 t1: float = T1) -> None:
        self.client = client
        self.call = call
        self.invite = invite
        self.destination = destination
        self.digest = digest
        self.t1 = t1
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.result: Placed | None = None
        self._provisional = False
        self._rang = False
        self._cancel_wanted = False
        self._cancel_sent = False
        self._credentials: dict[str, str] = {}
        self._rounds = 0
        self._early_sdp: tuple[Any, Any] | None = None  # (sdp, sdp_error) of a 1xx
        self._acks: dict[str, tuple[bytes, Address]] = {}  # To-tag -> its ACK, resent per 2xx
        self._sent: dict[str, InviteRequest] = {}  # by branch: each INVITE (digest retries)
        self.dialog: Dialog | None = None
        self.started = 0.0

    # --- the dialling thread ------------------------------------------------------------------

    def start(self) -> None:
        self.started = time.monotonic()
        self._send_invite(self.invite)

    def wait(self, ring_timeout_s: float) -> Placed:
        """Until answered or failed, at most ``ring_timeout_s`` from the INVITE; then CANCEL
        and wait for the INVITE's final answer (at most 64*T1, RFC 3261 9.1)."""
        remaining = self.started + ring_timeout_s - time.monotonic()
        if not self._done.wait(max(0.0, remaining)):
            self.cancel()
            with self._lock:
                heard = self._provisional
            # Nothing at all from the next hop: a CANCEL may not be sent, so stop waiting
            # (timer B ends the INVITE; a late answer is ACKed and BYEd).
            if not heard or not self._done.wait(64 * self.t1 + 1.0):
                self._finish(Placed(0, "", self._rang, heard, cancelled=True))
        assert self.result is not None
        return self.result

    def cancel(self) -> None:
        """Give up the INVITE (ring timeout, or the call hung up while it rings)."""
        with self._lock:
            if self.result is not None or self._cancel_wanted:
                return
            self._cancel_wanted = True
            send = self._provisional
            self._cancel_sent = send
            invite = self.invite
        if send:
            self._send_cancel(invite)

    # --- the SIP thread (InviteHandler) -----------------------------------------------------

    def on_provisional(self, response: Any) -> None:
        code = int(response.status)
        with self._lock:
            self._provisional = True
            if code in (180, 183):
                self._rang = True
            if getattr(response, "has_sdp", False):
                self._early_sdp = (response.sdp, response.sdp_error)
            send = self._cancel_wanted and not self._cancel_sent
            self._cancel_sent = self._cancel_sent or send
            invite = self.invite
        if send:  # the CANCEL waited for this provisional (RFC 3261 9.1)
            self._send_cancel(invite)

    def on_accepted(self, response: Any, source: Address | None, again: bool) -> None:
        to_value = (_values(response, "To") or [""])[0]
        tag = tag_of(to_value)
        with self._lock:
            known = self._acks.get(tag)
            first = self.dialog is None
        if known is not None:  # a retransmitted 2xx: its ACK again (RFC 3261 13.2.2.4)
            self.client.invites.send(*known)
            return
        dialog = self._dialog(response, to_value, source)
        ack, hop = dialog.ack(self.client.gen_branch()).encode(), self._hop(dialog)
        with self._lock:
            self._acks[tag] = (ack, hop)
            wanted = first and self.result is None
            if wanted:
                self.dialog = dialog
        self.client.invites.send(ack, hop)
        if not wanted:
            # A 2xx from another fork, or after we stopped waiting: ACK it, then end it.
            self.client.bye_dialog(dialog)
            return
        sdp, error = getattr(response, "sdp", None), getattr(response, "sdp_error", None)
        if sdp is None and error is None and self._early_sdp is not None:
            sdp, error = self._early_sdp
        problem = self.call.connect(dialog, sdp, error)
        if problem is not None:
            self.client.bye_dialog(dialog)
        self._finish(Placed(int(response.status), _status_line(response), self._rang, True,
                            self._cancel_wanted, problem))

    def on_failed(self, response: Any, again: bool) -> None:
        to_value = (_values(response, "To") or [self.invite.to_value])[0]
        # The ACK of an error answer belongs to its transaction: the INVITE it answers.
        with self._lock:
            invite = self._sent.get(response.headers["Via"][0].get("branch") or "")
        if invite is not None:
            self.client.invites.send(invite.ack_error(to_value).encode(), self.destination)
        if again:
            return
        code = int(response.status)
        problem = None
        if code in (401, 407):
            retry = self._challenge(response, code)
            if retry is not None:
                self._send_invite(retry)
                return
            problem = ("challenged, but no account/password to answer with" if self.digest
                       is None or not self.digest.password else
                       "the gateway refused our credentials")
        self._finish(Placed(code, _status_line(response), self._rang, self._provisional,
                            self._cancel_wanted, problem))

    def on_timeout(self) -> None:
        with self._lock:
            cancelled, heard = self._cancel_wanted, self._provisional
        self._finish(Placed(0, "", self._rang, heard, cancelled))

    def on_closed(self) -> None:
        with self._lock:
            cancelled, heard = self._cancel_wanted, self._provisional
        self._finish(Placed(0, "", self._rang, heard, cancelled, problem="the SIP line stopped"))

    # --- inside -----------------------------------------------------------------------------

    def _challenge(self, response: Any, code: int) -> InviteRequest | None:
        with self._lock:
            if self.digest is None or not self.digest.password or self._cancel_wanted:
                return None
            credentials = next_credentials(
                self.digest, code, lambda name: _values(response, name), self._credentials,
                self._rounds, "INVITE", self.invite.uri)
            if credentials is None:
                return None
            self._credentials = credentials
            self._rounds += 1
            self.invite = self.invite.retry(self.client.gen_branch(), credentials)
            return self.invite

    def _send_invite(self, invite: InviteRequest) -> None:
        with self._lock:
            self._sent[invite.branch] = invite
        self.client.invites.start(invite.text().encode(), self.destination, invite.branch, self,
                                  t1=self.t1)

    def _send_cancel(self, invite: InviteRequest) -> None:
        self.client.outbound.start(invite.cancel().encode(), self.destination, invite.branch,
                                   "CANCEL", t1=self.t1)
        self.client.invites.cancelled(invite.branch)

    def _dialog(self, response: Any, to_value: str, source: Address | None) -> Dialog:
        contact = (_values(response, "Contact") or [""])[0]
        target = uri_of(contact) if contact else self.invite.uri
        routes = RouteSet.from_response(_values(response, "Record-Route"))
        dialog = Dialog(self.invite, to_value, target or self.invite.uri, routes)
        if dialog.next_hop() is None and source is not None:
            # Without a route set our requests go where the 2xx came from (as the box answers
            # requests where they came from): a gateway's Contact may name an address we
            # cannot reach, the hop that answered can always be reached.
            self.client.out.learn(dialog.call_id, source)
        return dialog

    def _hop(self, dialog: Dialog) -> Address:
        hop = dialog.next_hop()
        if hop is not None:
            return hop
        return self.client.out.peer(dialog.call_id) or self.destination

    def _finish(self, result: Placed) -> None:
        with self._lock:
            if self.result is not None:
                return
            self.result = result
        if not result.answered:
            self.call.dial_failed()
        self._done.set()
