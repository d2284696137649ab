"""The command core: a FIFO of AT commands, one in flight, URCs classified first. Sans-IO.

Feed it bytes with ``receive(data, now)`` and the passage of time with ``tick(now)``; take
what to write with ``take_output(now)``. Each command's timeout counts from the moment its
bytes were handed out for writing, never from when it was queued. ``now`` is any monotonic
reading: there is no clock inside, so tests drive time by hand.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ._framing import Framer, Line, Prompt, Raw, RawTrigger
from ._parser import Final, Urc, classify_late, classify_urc, final_result

SHORT_S = 2.0
MEDIUM_S = 10.0
LONG_S = 60.0  # SMS send and network operations can take up to a minute


@dataclass(slots=True)
class Response:
    ok: bool
    lines: list[str]
    final: str  # "OK", "ERROR", "+CME ERROR: 10", "NO CARRIER", "TIMEOUT", "CANCELLED"
    cme: int | None = None
    cms: int | None = None
    data: bytes = b""  # raw data the command read (a file from the module's storage)

    @property
    def timed_out(self) -> bool:
        return self.final == "TIMEOUT"

    def first(self, prefix: str = "") -> str | None:
        return next((line for line in self.lines if line.startswith(prefix)), None)


@dataclass(eq=False)
class Command:
    """One AT command.

    ``expect``: prefixes of the info lines that belong to the response ("" takes any
    non-URC line, e.g. AT+CGSN's bare IMEI). ``body``: sent once the module asks for it:
    after the ``> `` prompt (``body_after="> "``: SMS text, SIMCom file writes) or after a
    line such as ``CONNECT`` (Quectel AT+QFUPL), followed by ``body_end`` (0x1A ends an SMS;
    file uploads give their size instead and end with nothing). ``body_lines``: after the
    first expected line, take every line up to the final result that follows a blank line
    (an SMS body may read "OK" or "RING"). ``finals``: extra final results this command ends
    with instead of them being URCs (ATA and ATD end with NO CARRIER / BUSY). ``raw``: the
    command reads a file back: where its raw data starts and how long it is (``Response.data``).
    """

    text: str
    expect: tuple[str, ...] = ()
    timeout: float = SHORT_S
    body: bytes | None = None
    body_after: str = "> "
    body_end: bytes = b"\x1a"
    body_lines: bool = False
    finals: tuple[str, ...] = ()
    raw: RawTrigger | None = None
    on_done: Callable[[Response], None] | None = None
    id: int = field(default_factory=itertools.count(1).__next__)


@dataclass(frozen=True, slots=True)
class Done:
    command: Command
    response: Response


@dataclass(frozen=True, slots=True)
class UrcEvent:
    urc: Urc


CoreEvent = Done | UrcEvent

_SUB = b"\x1a"
_ESC = b"\x1b"


class CommandCore:
    def __init__(self) -> None:
        self._framer = Framer()
        self._queue: deque[Command] = deque()
        self._current: Command | None = None
        self._deadline: float | None = None
        self._lines: list[str] = []
        self._in_body = False
        self._body_echo: list[str] = []
        self._echo_seen = False
        self._body_sent = False
        self._data = bytearray()
        self._out = bytearray()

    # ---- commands in

    def submit(self, command: Command, *, first: bool = False) -> None:
        if first:
            self._queue.appendleft(command)
        else:
            self._queue.append(command)

    @property
    def busy(self) -> bool:
        return self._current is not None or bool(self._queue)

    @property
    def current(self) -> Command | None:
        return self._current

    def next_deadline(self) -> float | None:
        return self._deadline

    def take_output(self, now: float) -> bytes:
        """Bytes to write now; starts the next queued command when none is in flight."""
        if self._current is None and self._queue:
            command = self._queue.popleft()
            self._current = command
            self._lines = []
            self._in_body = False
            self._body_echo = []
            self._echo_seen = False
            self._body_sent = False
            self._data.clear()
            self._deadline = now + command.timeout
            self._framer.prompt_expected = command.body is not None and \
                command.body_after == "> "
            self._framer.raw_trigger = command.raw
            self._out += command.text.encode("latin-1", "replace") + b"\r"
        out = bytes(self._out)
        self._out.clear()
        return out

    def reset(self) -> list[CoreEvent]:
        """The port was reopened: fail everything queued or in flight, forget partial input."""
        events: list[CoreEvent] = []
        if self._current is not None:
            events.append(self._finish(Response(False, self._lines, "CANCELLED")))
        while self._queue:
            command = self._queue.popleft()
            events.append(Done(command, Response(False, [], "CANCELLED")))
        self._framer.reset()
        self._out.clear()
        return events

    def abandon(self, reason: str = "CANCELLED") -> list[CoreEvent]:
        """The module forgot the command in flight (it rebooted): fail it now rather than
        let everything queued behind it wait for its timeout."""
        if self._current is None:
            return []
        return [self._finish(Response(False, self._lines, reason))]

    def interrupt(self, text: str) -> None:
        """Write ``text`` now, ahead of the queue, while a command is in flight: a character
        aborts a dial still waiting for its result (V.25ter; SIM800 and EC25 manuals, ATD:
        "may be aborted generally by receiving an ATH command or a character during
        execution"). The command in flight still ends with whatever the module answers."""
        self._out += text.encode("latin-1", "replace") + b"\r"

    # ---- bytes and time in

    def tick(self, now: float) -> list[CoreEvent]:
        if self._current is None or self._deadline is None or now < self._deadline:
            return []
        if self._current.body is not None and self._current.body_end == _SUB:
            # Waiting at "> " or for +CMGS: ESC aborts the message so the modem leaves text
            # entry mode; otherwise it would take our next command as SMS text. (A file
            # upload of a given size is left to the module's own input timeout: an ESC would
            # be one more byte of the file.)
            self._out += _ESC
        self._framer.prompt_expected = False
        return [self._finish(Response(False, self._lines, "TIMEOUT"))]

    def receive(self, data: bytes, now: float) -> list[CoreEvent]:
        events: list[CoreEvent] = []
        for token in self._framer.feed(data):
            if isinstance(token, Prompt):
                if self._current is not None and self._current.body is not None \
                        and self._current.body_after == "> ":
                    self._send_body(self._current)
            elif isinstance(token, Line):
                event = self._line(token)
                if event is not None:
                    events.append(event)
            elif isinstance(token, Raw) and self._current is not None:
                self._data += token.data
        return events

    def _line(self, token: Line) -> CoreEvent | None:
        text = token.text
        command = self._current
        if command is not None:
            if self._is_echo(text, command):
                return None
            if self._asks_for_body(text, command):
                self._send_body(command)
                return None
            if self._in_body and token.gap < 2:
                self._lines.append(text)
                return None
            if text in command.finals:
                return self._finish(Response(False, self._lines, text))
            if command.raw is not None and command.raw.after and \
                    text.startswith(command.raw.after):
                return None  # announces the data (the framer takes it raw)
        urc = classify_urc(text)
        if urc is not None:
            return UrcEvent(urc)
        if command is None:
            final = final_result(text)
            if final is not None or text.upper().startswith("AT"):
                return None  # a stray echo or the late final result of a timed-out command
            return UrcEvent(classify_late(text))
        final = final_result(text)
        if final is not None:
            return self._finish(_response(final, self._lines, bytes(self._data)))
        if self._expects(text, command):
            self._lines.append(text)
            self._in_body = command.body_lines
            return None
        return UrcEvent(classify_late(text))

    def _is_echo(self, text: str, command: Command) -> bool:
        if text.upper() == command.text.upper():
            self._echo_seen = True
            return True
        # With echo on, the SMS body comes back too, before +CMGS: it is not a result even
        # when a line of it reads "OK" or "ERROR".
        if self._body_echo and text == self._body_echo[0]:
            self._body_echo.pop(0)
            return True
        return False

    def _asks_for_body(self, text: str, command: Command) -> bool:
        if command.body is None or self._body_sent:
            return False
        # "CONNECT" (Quectel AT+QFUPL); a bare ">" line where firmware ends the prompt with
        # a line break instead of the space.
        return text == command.body_after or (command.body_after == "> " and text == ">")

    def _send_body(self, command: Command) -> None:
        if self._body_sent or command.body is None:
            return
        self._body_sent = True
        self._framer.prompt_expected = False
        self._out += command.body + command.body_end
        if self._echo_seen and command.body_end == _SUB:  # echo on: the text comes back
            self._body_echo = _text_lines(command.body)

    def _expects(self, text: str, command: Command) -> bool:
        return any(text.startswith(prefix) for prefix in command.expect)

    def _finish(self, response: Response) -> Done:
        assert self._current is not None
        if self._data and not response.data:
            response.data = bytes(self._data)  # what came before a timeout: a cut transfer
        done = Done(self._current, response)
        self._current = None
        self._data = bytearray()
        self._framer.stop_raw()
        self._deadline = None
        self._lines = []
        self._in_body = False
        self._body_echo = []
        self._framer.prompt_expected = False
        return done


def _response(final: Final, lines: list[str], data: bytes = b"") -> Response:
    return Response(final.ok, lines, final.text, final.cme, final.cms, data)


def _text_lines(body: bytes) -> list[str]:
    return [line.strip() for line in body.decode("latin-1").splitlines() if line.strip()]
