"""``edgecall install-service``: the systemd units, filled in for this installation.

Prints them, or writes them with ``--write`` (then run ``systemctl daemon-reload``).
See docs/install.md for the whole install, upgrade and uninstall path.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from ._errors import UserError

UNITS = ("edgecall.service", "edgecall-hq.service")


def unit_templates() -> Path:
    """systemd/ as installed (share/edgecall/systemd) or in a source checkout."""
    for candidate in (Path(sys.prefix) / "share" / "edgecall" / "systemd",
                      Path(__file__).resolve().parents[2] / "systemd"):
        if (candidate / UNITS[0]).is_file():
            return candidate
    raise UserError("the systemd unit templates are not installed (share/edgecall/systemd)")


def edgecall_executable() -> Path:
    beside = Path(sys.executable).parent / "edgecall"
    if beside.exists():
        return beside.absolute()
    found = shutil.which("edgecall")
    if not found:
        raise UserError("cannot find the edgecall executable of this installation")
    return Path(found).absolute()


def render(unit: str, executable: Path) -> str:
    text = (unit_templates() / unit).read_text(encoding="utf-8")
    return text.replace("@EDGECALL@", str(executable))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("install-service",
                                   help="print or write the systemd units for this install")
    parser.add_argument("--write", nargs="?", const="/etc/systemd/system", default=None,
                        metavar="DIR", help="write the units into DIR "
                        "(default /etc/systemd/system) instead of printing them")
    parser.add_argument("--hq", action="store_true",
                        help="the HQ receiver unit instead of the box's")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    unit = UNITS[1] if args.hq else UNITS[0]
    text = render(unit, edgecall_executable())
    if args.write is None:
        sys.stdout.write(text)
        return 0
    target = Path(args.write) / unit
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {target}: {exc.strerror or exc}") from exc
    print(f"wrote {target}; now: systemctl daemon-reload && systemctl enable --now {unit}")
    return 0
