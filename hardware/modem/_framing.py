"""Bytes from the modem -> tokens: lines, the SMS ``> `` prompt, raw data. Sans-IO.

Raw data (a file read back from the module) comes where the command reading it says: after a
line that announces it (Quectel ``CONNECT``, SIMCom ``+CFTRANTX: DATA,<n>``) or right after the
first line break (SIM800 ``AT+FSREAD``), for a size known beforehand or given in that line
(:class:`RawTrigger`). It has to be decided here, not above: the bytes after the announcing
line are in the same read, and as lines they would lose every CR and LF in them.

Any run of CR/LF ends a line, so ``\\r\\n``, ``\\r\\r\\n`` and an echo's bare ``\\r`` all
frame alike; each line remembers how many LFs came before it (``gap``), which tells a final
``OK`` (always after a blank line, ``\\r\\n\\r\\nOK``) from an SMS body line reading "OK".
Bytes are decoded as latin-1: it never fails, so line noise cannot kill the reader (a
strict UTF-8 decode silently killed python-gsmmodem's reader thread).
"""

from __future__ import annotations

from dataclasses import dataclass

_SEPARATORS = b"\r\n"


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    gap: int = 1  # line feeds since the previous token (2 or more: a blank line came first)


@dataclass(frozen=True, slots=True)
class Prompt:
    """``> ``: the modem waits for an SMS body (or file data) ended by 0x1A."""


@dataclass(frozen=True, slots=True)
class Raw:
    data: bytes


Token = Line | Prompt | Raw


@dataclass(frozen=True, slots=True)
class RawTrigger:
    """Where raw data starts for the command in flight. ``after``: a line starting with it
    announces a block (emitted as a Line first); "" means right after the first line break
    (exactly one CR LF, as the data itself may begin with either). ``size``: the block's
    length, or None to read it from the announcing line's last field (``DATA,475``).
    ``repeat``: more than one block may be announced (SIMCom sends files in blocks)."""

    after: str
    size: int | None = None
    repeat: bool = False


def decode(data: bytes) -> str:
    # NUL and the SMS terminators are noise in a text line; latin-1 maps every other byte.
    return data.decode("latin-1").replace("\x00", "").replace("\x1a", "").strip()


class Framer:
    """Feed bytes, get tokens. ``prompt_expected`` is set by the command core while a
    command that answers with ``> `` is in flight, so a body line starting "> " stays a line.
    ``expect_raw(n)`` takes the next n bytes verbatim (binary file reads)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._gap = 2  # the start of the stream counts as after a blank line
        self._raw_left = 0
        self.prompt_expected = False
        self.raw_trigger: RawTrigger | None = None

    def expect_raw(self, count: int) -> None:
        self._raw_left = count

    def stop_raw(self) -> None:
        """The command that read raw data is over (done, or timed out mid-block: a transfer
        cut short): what follows is lines again."""
        self._raw_left = 0
        self.raw_trigger = None

    def reset(self) -> None:
        self._buf.clear()
        self._gap = 2
        self.stop_raw()
        self.prompt_expected = False

    def feed(self, data: bytes) -> list[Token]:
        self._buf += data
        tokens: list[Token] = []
        while self._buf:
            if self._raw_left:
                chunk = bytes(self._buf[: self._raw_left])
                del self._buf[: len(chunk)]
                self._raw_left -= len(chunk)
                tokens.append(Raw(chunk))
                continue
            trigger = self.raw_trigger
            if trigger is not None and trigger.after == "":
                stop = _line_break(self._buf, 0)
                if stop is None:
                    break  # the CR LF before the data may come in two reads
                if stop:
                    del self._buf[:stop]
                    self._start_raw(trigger, trigger.size or 0)
                    continue
            end = _first_separator(self._buf)
            if end < 0:
                waiting = self._buf.lstrip(b" ")
                if self.prompt_expected and (waiting.startswith(b"> ") or waiting == b">"):
                    # The prompt has no line ending: the modem waits after "> " (some file
                    # commands send ">" alone).
                    tokens.append(Prompt())
                    self._buf.clear()
                    self._gap = 0
                    self.prompt_expected = False
                break
            text = decode(bytes(self._buf[:end])) if end else ""
            announced = self._announced(text) if text else None
            if announced is not None:
                # The data follows the announcing line's break, which may not all be here.
                stop = _line_break(self._buf, end)
                if stop is None:
                    break
                tokens.append(Line(text, self._gap))
                del self._buf[:stop]
                assert self.raw_trigger is not None
                self._start_raw(self.raw_trigger, announced)
                continue
            if text:
                tokens.append(Line(text, self._gap))
                self._gap = 0
            stop = end
            while stop < len(self._buf) and self._buf[stop] in _SEPARATORS:
                if self._buf[stop] == 0x0A:
                    self._gap += 1
                stop += 1
            del self._buf[:stop]
        return tokens

    def _announced(self, text: str) -> int | None:
        """The size of the raw block ``text`` announces, or None when it announces none."""
        trigger = self.raw_trigger
        if trigger is None or not trigger.after or not text.startswith(trigger.after):
            return None
        if trigger.size is not None:
            return trigger.size
        field = text.rsplit(",", 1)[-1].strip()
        return int(field) if field.isdigit() else None

    def _start_raw(self, trigger: RawTrigger, size: int) -> None:
        self._raw_left = size
        self._gap = 0
        if not trigger.repeat:
            self.raw_trigger = None


def _line_break(buf: bytearray, start: int) -> int | None:
    """Where the line break at ``start`` ends: CRs then one LF (``\\r\\n``, and ``\\r\\r\\n`` as
    some firmware frames lines), so data beginning with a CR LF of its own keeps it. None: the
    break is not all here yet; ``start`` itself when there is no break there."""
    stop = start
    while stop < len(buf) and buf[stop] == 0x0D:
        stop += 1
    if stop == len(buf):
        return None
    return stop + 1 if buf[stop] == 0x0A else start


def _first_separator(buf: bytearray) -> int:
    cr = buf.find(b"\r")
    lf = buf.find(b"\n")
    if cr < 0:
        return lf
    if lf < 0:
        return cr
    return min(cr, lf)
