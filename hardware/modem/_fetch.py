"""Reading a file back from the module's storage, with each module's command: the size first
(the data comes raw and must be counted), then the data, checked against that size (and the
module's checksum where it gives one). Blocking: a recording's own thread runs it through the
driver's ``execute``, never the port thread.

- SIM800 ``AT+FSREAD=<file>,<mode>,<size>,<position>``: the data right after the command's
  line break, then ``OK``; read in parts of ``chunk`` bytes.
- EC25 ``AT+QFDWL=<file>``: ``CONNECT``, the whole file, ``+QFDWL: <size>,<checksum>``, ``OK``.
- SIM7600 ``AT+CFTRANTX=<file>,<location>,<size>``: ``+CFTRANTX: DATA,<n>`` and n bytes, once or
  more, ``+CFTRANTX: 0``, ``OK``.
"""

from __future__ import annotations

from collections.abc import Callable

from . import _parser as p
from ._audiofiles import quectel_checksum
from ._commands import MEDIUM_S, Response
from ._framing import RawTrigger
from ._profiles import FileRecord

Execute = Callable[..., Response]


class FetchFailed(Exception):
    """The file could not be read back whole; the message says why."""


def transfer_s(size: int, baud: int) -> float:
    """How long ``size`` bytes may take on the port: 10 bits a byte, twice over for a slow
    module, plus a fixed guard (a USB port is faster; this only has to be long enough)."""
    return 2.0 * size * 10 / max(baud, 9600) + 5.0


def file_size(execute: Execute, spec: FileRecord, path: str) -> int | None:
    """The file's size on the module; None when it has no such file (or will not say)."""
    response = execute(spec.size_query.format(path=path), expect=(spec.size_prefix,),
                       timeout=MEDIUM_S)
    line = response.first(spec.size_prefix) if response.ok else None
    return None if line is None else p.parse_file_size(line, spec.size_prefix)


def fetch(execute: Execute, spec: FileRecord, path: str, *, baud: int) -> bytes:
    """The whole file at ``path`` on the module; FetchFailed when it is missing, refused or
    comes back short or changed."""
    size = file_size(execute, spec, path)
    if size is None:
        raise FetchFailed("the module holds no such file")
    if size == 0:
        return b""
    if spec.download == "qfdwl":
        return _qfdwl(execute, spec, path, size, baud)
    parts = bytearray()
    chunk = spec.chunk or size
    for offset in range(0, size, chunk):
        want = min(chunk, size - offset)
        command = spec.download_command.format(path=path, mode=0 if offset == 0 else 1,
                                               size=want, offset=offset)
        if spec.download == "fsread":
            trigger, expect = RawTrigger("", size=want), ()
        else:  # cftrantx: blocks announced with their length
            trigger, expect = RawTrigger("+CFTRANTX: DATA", repeat=True), ("+CFTRANTX",)
        response = execute(command, expect=expect, raw=trigger,
                           timeout=transfer_s(want, baud))
        _check(response, len(response.data), want, command)
        parts += response.data
    return bytes(parts)


def _qfdwl(execute: Execute, spec: FileRecord, path: str, size: int, baud: int) -> bytes:
    command = spec.download_command.format(path=path)
    response = execute(command, expect=("+QFDWL",), raw=RawTrigger("CONNECT", size=size),
                       timeout=transfer_s(size, baud))
    _check(response, len(response.data), size, command)
    fields = p.split_fields(p.payload(response.first("+QFDWL") or "", "+QFDWL"))
    if len(fields) >= 2:
        try:
            counted, checksum = int(fields[0]), int(fields[1], 16)
        except ValueError:
            counted, checksum = -1, -1
        if counted != size or checksum != quectel_checksum(response.data):
            raise FetchFailed(f"download corrupted (module sent {fields[0]} bytes, sum "
                              f"{fields[1]})")
    return response.data


def _check(response: Response, got: int, want: int, command: str) -> None:
    name = command.split("=")[0]
    if not response.ok:
        raise FetchFailed(f"{name} {response.final.lower()} after {got} of {want} bytes")
    if got != want:
        raise FetchFailed(f"{name} sent {got} of {want} bytes")
