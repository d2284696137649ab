"""A call we place (UAC), over HardenedCall: media offered before the INVITE leaves, set up from
the answer in the 2xx, and a BYE that follows the dialog our INVITE created.

pyVoIP 1.6.8's ``VoIPPhone.call()`` is not used (reference defect 8: it blocks for ever on
486/403/407 and its ACK carries a new random To-tag). The INVITE transaction is run by
``_placing``; this class is the call it sets up.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ._call import HardenedCall
from ._dialog import Dialog
from ._pyvoip import CallState, InvalidStateError, SIPMessage
from ._sdp import SdpError, SessionDescription, choose_audio

if TYPE_CHECKING:
    from ._phone import HardenedPhone
    from ._placing import Placing

log = logging.getLogger(__name__)


class PlacedCall(HardenedCall):
    """State DIALING until the far end answers (ANSWERED) or the attempt ends (ENDED)."""

    def __init__(self, phone: HardenedPhone, request: SIPMessage, session_id: int,
                 myIP: str, **kwargs: Any) -> None:
        super().__init__(phone, CallState.DIALING, request, session_id, myIP, **kwargs)
        self.dialog: Dialog | None = None
        self.placing: Placing | None = None
        # An INVITE without SDP builds the stream a delayed offer gets: every codec we offer
        # received, nothing sent until the answer names an address; its port is bound now, so
        # our offer names a port we hold.
        self._set_up_media(request)

    def offer(self) -> str:
        """Our SDP offer for the INVITE."""
        with self.lock:
            return self._local_sdp("sendrecv")

    def connect(self, dialog: Dialog, answer: SessionDescription | None,
                error: SdpError | None) -> str | None:
        """The 2xx arrived: media from its answer, and the call is up. Returns None, or why the
        call cannot go on (then the caller ACKs the 2xx and BYEs the dialog)."""
        with self.lock:
            self.dialog = dialog
            if self.state != CallState.DIALING:
                return "hung up before the answer"
            try:
                if error is not None:
                    raise error
                if answer is None:
                    raise SdpError("the 2xx carried no answer to our offer")
                choice = choose_audio(answer, self.phone.codecs)
            except SdpError as exc:
                self.state = CallState.ENDED
                problem = f"unusable SDP answer: {exc.reason}"
            else:
                self._offer = answer
                self._apply(choice)
                for client in self.RTPClients:
                    # Early media (ringback, announcements) was never listened to: what the
                    # socket holds from before the answer is thrown away.
                    client.discard_pending()
                    client.start()
                self.state = CallState.ANSWERED
                self.answered_once = True
                return None
        self._finish("local")
        return problem

    def dial_failed(self) -> None:
        """The INVITE did not lead to a call: forget it and free its port (nothing is sent)."""
        with self.lock:
            dialing = self.state == CallState.DIALING
            self.state = CallState.ENDED
        if dialing:
            self._finish("local")

    # Placed calls are answered by the far end: answer() only confirms it (the server calls
    # it on every call it runs).
    def answer(self) -> None:
        with self.lock:
            if self.state != CallState.ANSWERED:
                raise InvalidStateError(f"placed call is {self.state.value}, not answered")

    # Hung up while it still rings: the INVITE is cancelled (CANCEL once a provisional came).
    def hangup(self) -> None:
        with self.lock:
            dialing = self.state == CallState.DIALING
        if dialing and self.placing is not None:
            self.placing.cancel()
        super().hangup()

    def _finish(self, reason: str) -> None:
        super()._finish(reason)
        self.placing = None  # the call <-> placing cycle, broken as the call's others are

    def _send_bye(self) -> None:
        if self.dialog is not None:
            self.sip.bye_dialog(self.dialog)
