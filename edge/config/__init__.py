"""Configuration: one TOML file, validated against declared sections; a secrets file beside it.

Public face: :func:`load_config` returns a :class:`Config`; :class:`Section` and :class:`Key`
declare a section (line kinds and sync declare theirs through entry points).
"""

from ._load import Config, load_config, load_secrets, parse_config, secrets_mode_ok
from ._schema import REQUIRED, ConfigError, ConfigProblem, Key, Section
from ._sections import CORE_SECTIONS

__all__ = [
    "CORE_SECTIONS",
    "REQUIRED",
    "Config",
    "ConfigError",
    "ConfigProblem",
    "Key",
    "Section",
    "load_config",
    "load_secrets",
    "parse_config",
    "secrets_mode_ok",
]
