"""Bytes from the modem -> tokens: lines, the SMS ``> `` prompt, raw data. Sans-IO.

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

    def expect_raw(self, count: int) -> None:
        self._raw_left = count

    def reset(self) -> None:
        self._buf.clear()
        self._gap = 2
        self._raw_left = 0
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
            if end:
                text = decode(bytes(self._buf[:end]))
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


def _first_separator(buf: bytearray) -> int:
    cr = buf.find(b"\r")
    lf = buf.find(b"\n")
    if cr < 0:
        return lf
    if lf < 0:
        return cr
    return min(cr, lf)
