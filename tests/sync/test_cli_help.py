"""``edgecall sync`` and ``edgecall hq ...`` explain themselves: a description per command,
and every option says what it does and its default (or that it is required)."""

from __future__ import annotations

import argparse

import pytest

from edge.cli import build_parser, main


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _commands() -> dict[str, argparse.ArgumentParser]:
    top = _subcommands(build_parser())
    hq = _subcommands(top["hq"])
    nested = {f"hq {name} {sub}": parser for name, command in hq.items()
              for sub, parser in _subcommands(command).items()}
    return {"sync": top["sync"], "hq": top["hq"],
            **{f"hq {name}": parser for name, parser in hq.items()}, **nested}


HQ = ["hq init", "hq serve", "hq export", "hq publish", "hq add-box", "hq rotate-key",
      "hq remove-box", "hq boxes", "hq import-twilio", "hq perform", "hq requests",
      "hq requests retry"]


def test_every_sync_and_hq_command_is_covered() -> None:
    assert set(_commands()) == {"sync", "hq", *HQ}


@pytest.mark.parametrize("name", ["sync", "hq", *HQ])
def test_every_command_has_a_description(name: str) -> None:
    assert _commands()[name].description


@pytest.mark.parametrize("name", ["sync", *HQ])
def test_every_option_says_what_it_does_and_its_default(name: str) -> None:
    vague = []
    for action in _commands()[name]._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        text = action.help or ""
        flag = isinstance(action, argparse._StoreTrueAction)
        positional = not action.option_strings
        if not text or not (flag or positional or "default" in text or "required" in text):
            vague.append(f"{'/'.join(action.option_strings) or action.dest}: {text!r}")
    assert not vague, f"edgecall {name}: options without help or default: {vague}"


def test_hq_serve_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["hq", "serve", "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # help wraps its lines
    for text in ("Ctrl-C or SIGTERM", "8750;", "127.0.0.1)", "./hq.db)", "300)",
                 "gunicorn (default)"):
        assert text in out, text
