from __future__ import annotations

from edge.config import REQUIRED, Key, Section
from edge.config._render import render_config, render_markdown

SECTION = Section("x", "Test.", (
    Key("port", int, 5060, "Port.", min=1, max=65535),
    Key("mode", str, "auto", "Mode.", choices=("auto", "info")),
    Key("hosts", list, [], "Hosts.", item=str),
    Key("ratio", float, 0.5, "Ratio."),
    Key("name", str, REQUIRED, "Name.", example="gw"),
))


def test_valid_values_and_defaults() -> None:
    values, problems = SECTION.parse({"name": "a", "ratio": 1})
    assert problems == []
    assert values == {"name": "a", "ratio": 1.0, "port": 5060, "mode": "auto", "hosts": []}


def test_every_problem_names_key_value_and_expectation() -> None:
    _values, problems = SECTION.parse({"port": 0, "mode": "x", "hosts": [1], "prot": 1,
                                       "ratio": True})
    text = [str(p) for p in problems]
    assert "x.port: got 0, expected an integer from 1 to 65535" in text
    assert "x.mode: got 'x', expected one of 'auto', 'info'" in text
    assert any(t.startswith("x.hosts: got [1], expected a list of") for t in text)
    assert any("x.prot: unknown key (did you mean 'port'?)" in t for t in text)
    assert any(t.startswith("x.ratio: got True") for t in text)
    assert "x.name: missing, expected a string" in text


def test_rendered_config_and_docs_show_every_key() -> None:
    text = render_config([SECTION], {})
    for key in SECTION.keys:
        assert f"{key.name} = " in text
    assert 'name = "gw"' in text
    doc = render_markdown([SECTION])
    assert "| `port` | `5060` |" in doc and "| `name` | required |" in doc
