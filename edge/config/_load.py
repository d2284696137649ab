"""Load and validate the TOML config file and the secrets file."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._schema import ConfigError, ConfigProblem, Section


@dataclass(frozen=True)
class Config:
    """A validated config: ``sections[name]`` holds each present section's values (absent
    optional sections are missing). Paths are resolved against the config file's folder."""

    path: Path | None
    sections: Mapping[str, dict[str, Any]]
    secrets: Mapping[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any] | None:
        return self.sections.get(name)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    @property
    def box_id(self) -> str:
        return self.sections["box"]["id"]

    @property
    def data_dir(self) -> Path:
        return self.resolve(self.sections["box"]["data_dir"])

    @property
    def secrets_path(self) -> Path:
        return self.resolve(self.sections["box"]["secrets_file"])


def parse_config(raw: Mapping[str, Any], source: str, sections: Iterable[Section],
                 path: Path | None = None) -> Config:
    known = {s.name: s for s in sections}
    problems: list[ConfigProblem] = []
    values: dict[str, dict[str, Any]] = {}
    for name, table in raw.items():
        section = known.get(name)
        if section is None:
            problems.append(ConfigProblem(name, "unknown section; known sections: "
                                          + ", ".join(known)))
            continue
        if not isinstance(table, dict):
            problems.append(ConfigProblem(name, f"got {table!r}, expected a [{name}] table"))
            continue
        parsed, section_problems = section.parse(table)
        problems.extend(section_problems)
        values[name] = parsed
    for section in known.values():
        if section.name not in values and not section.optional:
            parsed, section_problems = section.parse({})
            problems.extend(section_problems)
            values[section.name] = parsed
    if problems:
        raise ConfigError(source, problems)
    return Config(path, values)


def load_config(path: Path | None, sections: Iterable[Section],
                with_secrets: bool = True) -> Config:
    """Read ``path`` (None: all defaults) against ``sections`` (a box's: edge.plugins'
    ``all_sections()``) and, when asked, its secrets file."""
    sections = list(sections)
    if path is None:
        config = parse_config({}, "defaults", sections)
    else:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(str(path), [ConfigProblem("file", "not found; create one with "
                                                        "'edgecall init'")]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), [ConfigProblem("syntax", str(exc))]) from None
        config = parse_config(raw, str(path), sections, path.resolve())
    if with_secrets:
        config = Config(config.path, config.sections, load_secrets(config.secrets_path))
    return config


SECRET_KEYS = {"pseudonym_key": "64 hex digits: the key of caller-number pseudonyms"}


def load_secrets(path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), [ConfigProblem(
            "file", "secrets file not found; 'edgecall init' writes one")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [ConfigProblem("syntax", str(exc))]) from None
    key = raw.get("pseudonym_key")
    try:
        ok = isinstance(key, str) and len(bytes.fromhex(key)) >= 16
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(str(path), [ConfigProblem(
            "pseudonym_key", f"missing or invalid, expected {SECRET_KEYS['pseudonym_key']}")])
    return raw


def secrets_mode_ok(path: Path) -> bool:
    """Only the owner may read the secrets file."""
    mode = os.stat(path).st_mode
    return not (mode & (stat.S_IRWXG | stat.S_IRWXO))
