"""The simulator as a running peer: a thread owning a pseudo-terminal master (the driver
opens the slave exactly as it would open /dev/ttyUSB2), optionally a TCP port for pyserial's
``socket://`` URLs, and a line-based control socket.

Unplug closes the master (the driver's port then fails as on a USB unplug) and, after the
given time, "replugs" a fresh pty behind the same symlink, as udev keeps /dev/modem stable.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
import time
import tty
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._model import ModemModel
from ._outgoing import SimPhone

log = logging.getLogger(__name__)

SPEAK = "SPEAK:"  # a scripted caller's group that speaks into a recording


class ModemSimulator:
    """Start with :meth:`start`; ``path`` is what the driver opens. Every control method is
    thread-safe and returns at once; what the module says follows on the wire."""

    def __init__(self, profile: str = "sim800", *, link: Path | None = None,
                 tcp_port: int | None = None, control: str | None = None,
                 clock: Callable[[], float] = time.monotonic, **model_args: Any) -> None:
        self.model = ModemModel(profile, **model_args)
        self.profile = profile
        self._link = link
        self._tcp_port = tcp_port
        self._control_address = control
        self._clock = clock
        self._lock = threading.RLock()
        self._wake_r, self._wake_w = os.pipe()
        self._master: int | None = None
        self._slave: int | None = None
        self._slave_path = ""
        self._tcp: socket.socket | None = None
        self._tcp_client: socket.socket | None = None
        self._control: socket.socket | None = None
        self._control_clients: dict[socket.socket, bytearray] = {}
        self._replug_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"modem-sim-{profile}",
                                        daemon=True)
        self.plugged = threading.Event()

    # ------------------------------------------------------------------ lifecycle

    @property
    def path(self) -> str:
        """The port to open: the stable symlink when one was asked for, else the pty."""
        return str(self._link) if self._link else self._slave_path

    @property
    def tcp_address(self) -> tuple[str, int] | None:
        return self._tcp.getsockname() if self._tcp else None

    @property
    def control_address(self) -> str | None:
        if self._control is None:
            return None
        name = self._control.getsockname()
        return name if isinstance(name, str) else f"{name[0]}:{name[1]}"

    def start(self) -> ModemSimulator:
        self._open_pty()
        if self._tcp_port is not None:
            self._tcp = socket.create_server(("127.0.0.1", self._tcp_port))
        if self._control_address:
            self._control = _listen(self._control_address)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake()
        if self._thread.is_alive():
            self._thread.join(5)
        with self._lock:
            self._close_pty()
            for sock in [self._tcp, self._tcp_client, self._control,
                         *self._control_clients]:
                if sock is not None:
                    sock.close()
            self._control_clients.clear()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._link:
            with contextlib.suppress(OSError):
                self._link.unlink()

    def __enter__(self) -> ModemSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        # Raw mode, or "AT\r" arrives as "AT\n" and the line discipline echoes it.
        tty.setraw(master)
        tty.setraw(slave)
        # Keep the slave open ourselves: the master then never sees EIO between two opens
        # of the port by the driver.
        self._master, self._slave = master, slave
        self._slave_path = os.ttyname(slave)
        if self._link:
            tmp = self._link.with_name(self._link.name + ".new")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self._slave_path)
            tmp.replace(self._link)
        self.plugged.set()

    def _close_pty(self) -> None:
        self.plugged.clear()
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _do(self, action: Callable[[ModemModel], Any]) -> Any:
        with self._lock:
            self.model.advance(self._clock())
            result = action(self.model)
        self._wake()
        return result

    # ------------------------------------------------------------------ control API

    def incoming_call(self, number: str | None, *, withheld: bool = False,
                      clip: bool = True, rings: int | None = None) -> None:
        """A call rings in; with ``rings`` the caller rings off after that many RINGs."""
        self._do(lambda m: m.incoming_call(number, withheld=withheld, clip=clip, rings=rings))

    def ring_if_idle(self, number: str | None, *, rings: int | None = None) -> bool:
        """Ring a call in unless the module is in a call (dialling out included): the
        network would give the caller busy. Checked and done at once."""
        def ring(m: ModemModel) -> bool:
            if m.call is not None:
                return False
            m.incoming_call(number, withheld=number is None, rings=rings)
            return True
        return bool(self._do(ring))

    def set_phone(self, number: str | None, phone: SimPhone) -> None:
        """How ``number`` behaves when the module dials it (None: every other number)."""
        def apply(m: ModemModel) -> None:
            if number is None:
                m.default_phone = phone
            else:
                m.phones[number] = phone
        self._do(apply)

    def press(self, keys: str, *, duration_ms: int | None = None, gap_s: float = 0.05) -> None:
        self._do(lambda m: m.press(keys, duration_ms=duration_ms, gap_s=gap_s))

    def remote_hangup(self) -> None:
        self._do(lambda m: m.remote_hangup())

    def caller_hangs_up(self) -> None:
        """The first call's far end hangs up (the caller, held while the module transfers),
        leaving any second call as it is."""
        self._do(lambda m: m.caller_hangs_up())

    def transferred(self) -> list[tuple[str | None, str]]:
        """(held party, other party) of each call transfer the module made (AT+CHLD=4)."""
        return list(self._do(lambda m: list(m.transferred)))

    def speak(self, seconds: float) -> None:
        """The far end speaks for ``seconds`` from now (heard by a recording)."""
        self._do(lambda m: m.speak(seconds))

    def sms_in(self, sender: str, text: str) -> int:
        return self._do(lambda m: m.sms_in(sender, text))

    def reboot(self) -> None:
        self._do(lambda m: m.reboot())

    def set_signal(self, rssi: int) -> None:
        self._do(lambda m: m.set_signal(rssi))

    def set_registration(self, stat: int) -> None:
        self._do(lambda m: m.set_registration(stat))

    def set_sim(self, state: str, *, reboot: bool = True) -> None:
        self._do(lambda m: m.set_sim(state))
        if reboot:
            self.reboot()

    def network_time(self, utc: datetime | None = None) -> None:
        self._do(lambda m: m.network_time(utc or datetime.now(UTC)))

    def noise(self) -> None:
        self._do(lambda m: m.noise())

    def fault(self, *, cme_burst: list[int] | None = None, drop_ok: int = 0,
              slow_s: float = 0.0, slow_count: int = 0, slow_command: str | None = None,
              sandwich: int = 0) -> None:
        """``slow_command``: only that command's answers are slow ("A" for ATA, "+CLCC")."""
        def apply(m: ModemModel) -> None:
            m.faults.cme_burst.extend(cme_burst or [])
            m.faults.drop_ok += drop_ok
            if slow_count:
                m.faults.slow_s, m.faults.slow_count = slow_s, slow_count
                m.faults.slow_command = slow_command
            m.faults.sandwich += sandwich
        self._do(apply)

    def run_caller(self, number: str | None, key_groups: list[str], *, quiet_s: float = 0.3,
                   hang_up_after_s: float | None = None, timeout_s: float = 120.0,
                   gap_s: float = 0.05, ring: bool = True) -> threading.Thread:
        """A scripted caller on a thread: ring (unless ``ring`` is false: already ringing),
        then press each group of keys once the module has been quiet (no prompt playing) for
        ``quiet_s`` with the call up; optionally hang up ``hang_up_after_s`` after the last
        group. A group ``SPEAK:<seconds>`` speaks instead (a recorded answer), optionally then
        keys or a hang-up once said: ``SPEAK:3;#``, ``SPEAK:10;HANGUP`` (as the simulated
        line's callers). For the demo and end-to-end tests."""

        def state() -> tuple[bool, int]:
            with self._lock:
                m = self.model
                busy = m.prompt_playing() or m.call is None or m.call.state != "active"
                return busy, m.prompts_started

        def script() -> None:
            deadline = time.monotonic() + timeout_s
            prompts_seen = state()[1]
            if ring:
                self.incoming_call(number, withheld=number is None)
            for group in key_groups:
                # Wait for a new prompt to start and then end: the box is slow to ask the
                # next question sometimes (a durable commit), and a key pressed before the
                # question is not an answer to it.
                quiet_since: float | None = None
                while time.monotonic() < deadline and not self._stop.is_set():
                    now = time.monotonic()
                    busy, started = state()
                    if busy or started == prompts_seen:
                        quiet_since = None
                    elif quiet_since is None:
                        quiet_since = now
                    elif now - quiet_since >= quiet_s:
                        break
                    time.sleep(0.02)
                else:
                    return
                prompts_seen = state()[1]
                if group.startswith(SPEAK):
                    if self._say(group[len(SPEAK):], gap_s):
                        return  # hung up
                    continue
                self.press(group, gap_s=gap_s)
            if hang_up_after_s is not None:
                time.sleep(hang_up_after_s)
                self.remote_hangup()

        thread = threading.Thread(target=script, name="modem-sim-caller", daemon=True)
        thread.start()
        return thread

    def _say(self, text: str, gap_s: float) -> bool:
        """``3``, ``3;#`` or ``10;HANGUP``: speak, then keys or a hang-up. True: hung up."""
        seconds, _, then = text.partition(";")
        self.speak(float(seconds))
        self._stop.wait(float(seconds))
        if then.strip() == "HANGUP":
            self.remote_hangup()
            return True
        if then.strip():
            self.press(then.strip(), gap_s=gap_s)
        return False

    def unplug(self, down_s: float = 1.0) -> None:
        """Close the master (a USB unplug); replug a fresh pty after ``down_s``, rebooted."""
        with self._lock:
            self._close_pty()
            self.model.reboot(silent=True)
            self._replug_at = self._clock() + down_s
        self._wake()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            m = self.model
            return {"profile": m.profile.name, "call": m.call.state if m.call else "idle",
                    "variants": sorted(m.variants.chosen),
                    "heard": list(m.heard), "sent_sms": list(m.sent_sms),
                    "dialled": list(m.dialled), "files": sorted(m.files),
                    "echo": m.echo, "dtmf_on": m.dtmf_on, "sim": m.sim,
                    "plugged": self._master is not None}

    # ------------------------------------------------------------------ the loop

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._turn()
            except Exception:  # a bug in the model must not silence the modem for good
                log.exception("modem simulator loop")
                time.sleep(0.1)

    def _turn(self) -> None:
        if True:
            with self._lock:
                now = self._clock()
                if self._replug_at is not None and now >= self._replug_at:
                    self._replug_at = None
                    self._open_pty()
                    self.model.reboot()
                self._flush(now)
                due = self.model.next_due()
                waits = [0.5] + [t - now for t in (due, self._replug_at) if t is not None]
                readers = [self._wake_r] + [s for s in (self._master, self._tcp,
                                                         self._tcp_client, self._control)
                                             if s is not None] + list(self._control_clients)
            timeout = max(0.0, min(waits))
            try:
                ready, _, _ = select.select(readers, [], [], timeout)
            except (OSError, ValueError):
                return  # a descriptor closed under us (unplug): go round again
            for item in ready:
                self._readable(item)

    def _flush(self, now: float) -> None:
        data = self.model.take_output(now)
        if not data:
            return
        if self._master is not None:
            with contextlib.suppress(OSError):
                os.write(self._master, data)
        if self._tcp_client is not None:
            try:
                self._tcp_client.sendall(data)
            except OSError:
                self._tcp_client.close()
                self._tcp_client = None

    def _readable(self, item: int | socket.socket) -> None:
        if item == self._wake_r:
            with contextlib.suppress(OSError):
                os.read(self._wake_r, 1024)
            return
        if item == self._master and self._master is not None:
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            self._feed(data)
        elif item is self._tcp and self._tcp is not None:
            client, _ = self._tcp.accept()
            if self._tcp_client is not None:
                self._tcp_client.close()
            self._tcp_client = client
        elif item is self._tcp_client and self._tcp_client is not None:
            data = self._tcp_client.recv(4096)
            if not data:
                self._tcp_client.close()
                self._tcp_client = None
            self._feed(data)
        elif item is self._control and self._control is not None:
            client, _ = self._control.accept()
            self._control_clients[client] = bytearray()
        elif isinstance(item, socket.socket) and item in self._control_clients:
            self._control_input(item)

    def _feed(self, data: bytes) -> None:
        if data:
            with self._lock:
                now = self._clock()
                self.model.receive(data, now)
                self._flush(now)

    def _control_input(self, client: socket.socket) -> None:
        try:
            data = client.recv(4096)
        except OSError:
            data = b""
        if not data:
            client.close()
            self._control_clients.pop(client, None)
            return
        buf = self._control_clients[client]
        buf += data
        while b"\n" in buf:
            line, _, rest = bytes(buf).partition(b"\n")
            buf[:] = rest
            reply = self.control(line.decode("utf-8", "replace").strip())
            with contextlib.suppress(OSError):
                client.sendall(reply.encode() + b"\n")

    # ------------------------------------------------------------------ control lines

    def control(self, line: str) -> str:
        """One control command; returns "ok ..." or "error ...". See ``CONTROL_HELP``."""
        words = line.split()
        if not words:
            return "error empty command"
        verb, args = words[0].lower(), words[1:]
        try:
            if verb == "call":
                target = args[0] if args else "withheld"
                clip = "noclip" not in args
                rings = _option(args, "rings")
                if target == "withheld":
                    self.incoming_call(None, withheld=True, clip=clip,
                                       rings=int(rings) if rings else None)
                else:
                    self.incoming_call(target, clip=clip, rings=int(rings) if rings else None)
            elif verb == "phone":
                rings = _option(args, "rings")
                keys = _option(args, "keys")
                default_rings = None if args[1] == "no-answer" else 2
                phone = SimPhone(args[1], rings=int(rings) if rings else default_rings,
                                 keys=tuple(keys.split(",")) if keys else ())
                self.set_phone(None if args[0] == "*" else args[0], phone)
            elif verb == "keys":
                duration = next((int(a.split("=")[1]) for a in args if a.startswith("ms=")),
                                None)
                self.press("".join(a for a in args if "=" not in a), duration_ms=duration)
            elif verb == "hangup":
                self.remote_hangup()
            elif verb == "speak":
                self.speak(float(args[0]))
            elif verb == "sms":
                self.sms_in(args[0], line.split(None, 2)[2] if len(args) > 1 else "")
            elif verb == "reboot":
                self.reboot()
            elif verb == "unplug":
                self.unplug(float(args[0]) if args else 1.0)
            elif verb == "signal":
                self.set_signal(int(args[0]))
            elif verb == "register":
                self.set_registration(int(args[0]))
            elif verb == "sim":
                self.set_sim(args[0])
            elif verb == "time":
                self.network_time()
            elif verb == "noise":
                self.noise()
            elif verb == "fault":
                self._fault_words(args)
            elif verb == "status":
                return "ok " + " ".join(f"{k}={v}" for k, v in self.snapshot().items()
                                        if k in ("profile", "call", "sim", "plugged"))
            elif verb == "help":
                return "ok " + CONTROL_HELP.replace("\n", " | ")
            else:
                return f"error unknown command {verb!r} (try help)"
        except (IndexError, ValueError) as exc:
            return f"error {verb}: {exc}"
        return "ok"

    def _fault_words(self, args: list[str]) -> None:
        kind = args[0]
        if kind == "cme":
            self.fault(cme_burst=[int(args[1])] * (int(args[2]) if len(args) > 2 else 3))
        elif kind == "dropok":
            self.fault(drop_ok=1)
        elif kind == "slow":
            self.fault(slow_s=float(args[1]), slow_count=int(args[2]) if len(args) > 2 else 1)
        elif kind == "sandwich":
            self.fault(sandwich=int(args[1]) if len(args) > 1 else 3)
        else:
            raise ValueError(f"unknown fault {kind!r}")


CONTROL_HELP = """call <number>|withheld [noclip] [rings=N (rings off after N)]
phone <number>|* answers|busy|no-answer|rejects|unreachable|no-dialtone [rings=N] [keys=1,1#]
keys <digits> [ms=<duration>]
speak <seconds>
hangup
sms <sender> <text>
reboot
unplug [seconds]
signal <0-31|99>
register <0|1|2|3|5>
sim ready|pin|missing
time
noise
fault cme <code> [count] | dropok | slow <seconds> [count] | sandwich [count]
status"""


def _option(args: list[str], name: str) -> str | None:
    return next((a.split("=", 1)[1] for a in args if a.startswith(name + "=")), None)


def _listen(address: str) -> socket.socket:
    """``host:port`` (TCP, loopback only) or a filesystem path (Unix socket)."""
    if ":" in address and not address.startswith("/"):
        host, port = address.rsplit(":", 1)
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the control socket listens on 127.0.0.1 only")
        return socket.create_server(("127.0.0.1", int(port)))
    path = Path(address)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    return server


def send_control(address: str, line: str, timeout: float = 5.0) -> str:
    """Send one control line to a running simulator and return its reply."""
    if ":" in address and not address.startswith("/"):
        host, port = address.rsplit(":", 1)
        sock = socket.create_connection((host, int(port)), timeout)
    else:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(address)
    with sock:
        sock.sendall(line.encode() + b"\n")
        reply = bytearray()
        while not reply.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.decode().strip()
