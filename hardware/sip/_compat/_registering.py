"""Registration for HardenedSIPClient, over its socket and its client transactions.

Replaces pyVoIP 1.6.8's register/deregister (one REGISTER without retransmission, FAILED for
good after three failures, fixed 115 s refresh, MD5 digest without qop, 407 not handled,
synchronous un-REGISTER at stop that ignores challenges). A mixin: the client supplies the
socket, the identity fields (server, port, username, myIP, myPort, tagLibrary) and ``outbound``.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from ._digest import DigestAnswerer, next_credentials
from ._message import RobustSIPMessage
from ._outbound import Outbound, Pending
from ._regidentity import RegistrationIdentity
from ._register import ALLOW, USER_AGENT, Binding, contact_entries, register_request
from ._registration import RegistrationPolicy, granted_expires

if TYPE_CHECKING:
    from ._pyvoip import SIPMessage

log = logging.getLogger(__name__)

MAX_CHALLENGES = 2  # a proxy's 407 then the registrar's 401; a third means refused


class Registering:
    # Supplied by the client class.
    server: str
    port: int
    username: str
    myIP: str
    myPort: int
    NSD: bool
    tagLibrary: dict[str, str]
    outbound: Outbound
    retransmit: tuple[float, ...]
    policy: RegistrationPolicy
    default_expires: int
    registration_state: str
    _halt: threading.Event

    if TYPE_CHECKING:  # pyVoIP's SIPClient's (a stub here would shadow it)
        def gen_branch(self, length: int = 32) -> str: ...

    def setup_registration(self, username: str, password: str) -> None:
        self.identity = RegistrationIdentity()  # memory only; the line gives a stored one
        self.digest = DigestAnswerer(username, password)

    def use_identity(self, identity: RegistrationIdentity) -> None:
        """Call-ID, CSeq and instance kept in the data dir (before start)."""
        self.identity = identity

    @property
    def binding(self) -> Binding:
        return Binding(self.username, self.server, self.port, self.myIP, self.myPort,
                       self.identity.instance)

    def _register_text(self, expires: int, credentials: dict[str, str]) -> str:
        return register_request(
            self.binding, call_id=self.identity.call_id, cseq=self.identity.next_cseq(),
            from_tag=self.tagLibrary["register"], branch=self.gen_branch(), expires=expires,
            allow=ALLOW, user_agent=USER_AGENT, credentials=credentials,
        )

    def _answer_challenge(self, response: SIPMessage | None,
                          credentials: dict[str, str], rounds: int) -> dict[str, str] | None:
        """The credentials for the next try, or None when the response is not a challenge we
        should answer (our answer to that challenge was already refused, unless the nonce was
        only stale)."""
        if response is None:
            return None
        values = response.header_values if isinstance(response, RobustSIPMessage) \
            else lambda _name: []
        return next_credentials(self.digest, int(response.status), values, credentials, rounds,
                                "REGISTER", self.binding.request_uri)

    # --- blocking, for the supervisor thread and the doctor ----------------------------------

    def _transact(self, text: str) -> SIPMessage | None:
        """Send a REGISTER with retransmissions (``retransmit``: first interval, total time);
        the final response or None."""
        branch = text.split(";branch=", 1)[1].split(";", 1)[0]
        pending = self.outbound.start(text.encode(), (self.server, self.port), branch,
                                      "REGISTER", t1=self.retransmit[0],
                                      timeout=sum(self.retransmit))
        return pending.wait(sum(self.retransmit) + 1.0)  # type: ignore[no-any-return]

    def _register(self, expires: int) -> SIPMessage | None:
        credentials: dict[str, str] = {}
        for rounds in range(MAX_CHALLENGES + 1):
            response = self._transact(self._register_text(expires, credentials))
            answer = self._answer_challenge(response, credentials, rounds)
            if answer is None:
                return response
            credentials = answer
        return response

    def _register_once(self) -> int | None:
        response = self._register(self.default_expires)
        if response is None or int(response.status) != 200:
            return None
        contacts = contact_entries(
            response.header_values("Contact") if isinstance(response, RobustSIPMessage) else [])
        # Our binding's lifetime, not the first Contact's: registrars list every binding.
        return granted_expires(response.headers.get("Expires"), contacts, self.default_expires,
                               self.binding.is_ours)

    def _supervise_registration(self) -> None:
        """Register, refresh per the granted Expires, retry with backoff after failures; never
        give up while the line runs (stock: FAILED after three failures, for good)."""
        while self.NSD and not self._halt.is_set():
            self.registration_state = "registering"
            try:
                expires = self._register_once()
            except Exception as exc:  # a bad response must not end supervision
                log.debug("REGISTER error: %s", exc)
                expires = None
            if expires is not None:
                delay = self.policy.success(expires)
                self.registration_state = "registered"
                log.info("registered at %s:%s for %s s", self.server, self.port, expires)
            else:
                delay = self.policy.failure()
                self.registration_state = "retrying"
                log.warning(
                    "registration at %s:%s failed (%d in a row), retrying in %.0f s",
                    self.server, self.port, self.policy.failures, delay,
                )
            if self._halt.wait(delay):
                return

    # --- at stop: not blocking, answered from the receive thread -----------------------------

    def unregister(self, credentials: dict[str, str] | None = None, rounds: int = 0) -> Pending:
        """Expires 0 for our binding; a 401/407 challenge is answered (stock sent it once,
        unauthenticated, so a PBX that challenges every REGISTER kept the binding)."""
        credentials = credentials or {}
        text = self._register_text(0, credentials)
        branch = text.split(";branch=", 1)[1].split(";", 1)[0]

        def outcome(response: Any | None) -> None:
            answer = self._answer_challenge(response, credentials, rounds)
            if answer is not None and self.NSD:
                self.unregister(answer, rounds + 1)
            elif response is not None and int(response.status) == 200:
                log.info("unregistered from %s:%s", self.server, self.port)

        return self.outbound.start(text.encode(), (self.server, self.port), branch, "REGISTER",
                                   on_final=outcome, t1=self.retransmit[0])

