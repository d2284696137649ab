"""The pyVoIP boundary (issue 10): the installed pyVoIP is the one the layer was written for, and
every internal it touches is still there with the same parameters; any other version fails here,
naming what moved."""

from __future__ import annotations

import ast
import importlib.metadata
import inspect
import re
from pathlib import Path

from hardware.sip._compat import _pyvoip
from hardware.sip._compat._pyvoip import INTERNALS, PINNED, Internal, problems

ROOT = Path(__file__).resolve().parents[3]
SIP = ROOT / "hardware" / "sip"


def test_installed_version_is_the_pinned_one():
    assert importlib.metadata.version("pyVoIP") == PINNED
    assert _pyvoip.VERSION == PINNED
    pin = re.search(r'"pyVoIP==([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pin is not None and pin.group(1) == PINNED


def test_every_listed_internal_is_where_it_was():
    assert problems() == []


def test_a_moved_internal_is_named():
    moved = [
        Internal("pyVoIP.SIP.SIPClient", "gen_bye", "method", "x", ("self", "request", "extra")),
        Internal("pyVoIP.SIP.SIPClient", "tagLibraryX", "attr", "x"),
        Internal("pyVoIP.SIP", "Gone", "class", "x"),
        Internal("pyVoIP.Nowhere", "X", "class", "x"),
    ]
    found = [_pyvoip._problem(item) for item in moved]
    assert found[0] == ("pyVoIP.SIP.SIPClient.gen_bye: parameters ('self', 'request'), written "
                        "against ('self', 'request', 'extra')")
    assert found[1] == ("pyVoIP.SIP.SIPClient.tagLibraryX: attribute no longer assigned by "
                        "pyVoIP.SIP.SIPClient")
    assert found[2] == "pyVoIP.SIP.Gone: gone"
    assert found[3] == "pyVoIP.Nowhere.X: pyVoIP.Nowhere is gone"


def test_another_version_fails_loudly(monkeypatch):
    monkeypatch.setattr(_pyvoip, "VERSION", "2.0.0")
    assert problems()[0].startswith("pyVoIP 2.0.0 installed, layer written for 1.6.8")


def test_only_the_boundary_imports_pyvoip():
    offenders = []
    for path in sorted(SIP.rglob("*.py")):
        if path.name == "_pyvoip.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names
                          if n.split(".")[0] == "pyVoIP"]
    assert offenders == []


def test_every_override_is_listed():
    """A method our subclass defines over a pyVoIP one must be in INTERNALS (with why)."""
    from hardware.sip._compat import (
        HardenedCall,
        HardenedPhone,
        HardenedRTPClient,
        HardenedSIPClient,
        PlacedCall,
        RobustSIPMessage,
    )

    listed = {(i.owner.rsplit(".", 1)[-1], i.name) for i in INTERNALS if i.kind == "method"}
    missing = []
    for ours in (HardenedCall, HardenedPhone, HardenedRTPClient, HardenedSIPClient,
                 RobustSIPMessage, PlacedCall):
        mro = inspect.getmro(ours)
        base = next(k for k in mro if k.__module__.startswith("pyVoIP"))
        for klass in (k for k in mro if k.__module__.startswith("hardware.")):  # and mixins
            for name, value in vars(klass).items():
                overrides = callable(value) and hasattr(base, name) and name != "__init__"
                if overrides and (base.__name__, name) not in listed:
                    missing.append(f"{klass.__name__}.{name} overrides {base.__name__}.{name}")
    assert missing == []
