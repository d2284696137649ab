"""``python -m hardware.modem.simulator``: run a simulated modem, or send it a control line.

    python -m hardware.modem.simulator run --profile ec25 --link /tmp/modem \\
        --control 127.0.0.1:7300
    python -m hardware.modem.simulator ctl 127.0.0.1:7300 call +255712345678
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from ._model import SIM_PROFILES
from ._server import CONTROL_HELP, ModemSimulator, send_control
from ._variants import describe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hardware.modem.simulator",
                                     description="Simulated GSM modem on a pseudo-terminal.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the simulator until interrupted",
                         epilog="variants:\n" + describe(),
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--profile", choices=sorted(SIM_PROFILES), default="sim800")
    run.add_argument("--link", type=Path, help="stable symlink to the pty (survives unplug)")
    run.add_argument("--tcp", type=int, help="also serve socket://127.0.0.1:PORT")
    run.add_argument("--control", help="control socket: 127.0.0.1:PORT or a Unix socket path")
    run.add_argument("--ring-interval", type=float, default=3.0)
    run.add_argument("--variant", action="append", default=[], metavar="NAME[=N]",
                     help="a field behaviour to imitate (repeatable; list below)")
    ctl = sub.add_parser("ctl", help="send one control line", epilog=CONTROL_HELP,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    ctl.add_argument("address")
    ctl.add_argument("words", nargs="+")
    args = parser.parse_args(argv)

    if args.command == "ctl":
        reply = send_control(args.address, " ".join(args.words))
        print(reply)
        return 0 if reply.startswith("ok") else 1

    sim = ModemSimulator(args.profile, link=args.link, tcp_port=args.tcp,
                         control=args.control, ring_interval=args.ring_interval,
                         variants=args.variant).start()
    print(f"port {sim.path}", flush=True)
    if sim.tcp_address:
        print(f"url socket://{sim.tcp_address[0]}:{sim.tcp_address[1]}", flush=True)
    if sim.control_address:
        print(f"control {sim.control_address}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
