"""From a config to the configured sinks, each with its own ledger (its own batches and its
own acknowledgement cursor)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.config import Config, ConfigError, ConfigProblem

from ._ledger import Ledger, connect
from ._runner import Sink
from .codec import batch_encoder
from .config import SECRET_KEYS, SYNC_DEFAULTS


@dataclass
class Channel:
    ledger: Ledger
    sink: Sink


def sync_settings(config: Config) -> dict[str, Any]:
    return config.section("sync") or dict(SYNC_DEFAULTS)


def _secret(config: Config, key: str, min_length: int = 16) -> bytes:
    value = config.secrets.get(key)
    if not isinstance(value, str) or len(value) < min_length:
        raise ConfigError(str(config.secrets_path), [ConfigProblem(
            key, f"missing or shorter than {min_length} characters: {SECRET_KEYS[key]}")])
    return value.encode()


def configured_sinks(config: Config) -> list[str]:
    return [name for name in ("hq", "twilio") if config.section(name) is not None]


def build_channels(config: Config, db_path: Path, only: str | None = None) -> list[Channel]:
    """One channel per configured sink, each ledger on its own connection."""
    settings = sync_settings(config)
    box = config.box_id
    from ._identity import mismatch

    wrong = mismatch(box, db_path, only_unsent=True)
    if wrong:  # HQ would refuse (and park) every such batch: stop before sending any
        raise ConfigError(str(config.path), [ConfigProblem("box.id", wrong)])
    channels = []
    for name in configured_sinks(config):
        if only not in (None, "all", name):
            continue
        section = config.sections[name]
        sink: Sink
        if name == "hq":
            from ._hq import HqSink

            verify: bool | str = section["verify_tls"]
            if verify and section["ca_file"]:
                verify = str(config.resolve(section["ca_file"]))
            sink = HqSink(section["url"], box, _secret(config, "hq_secret"), verify,
                          section["connect_timeout_s"], section["read_timeout_s"])
        else:
            from ._twilio import TwilioSink

            sink = TwilioSink(section["base_url"], section["service_sid"],
                              section["api_key_sid"],
                              _secret(config, "twilio_api_key_secret", 8).decode(),
                              section["maps"], item_ttl_s=section["item_ttl_s"],
                              writes_per_s=section["writes_per_s"],
                              read_timeout_s=section["read_timeout_s"])
        ledger = Ledger(connect(db_path), name, box, batch_encoder(box, settings["compression"]),
                        settings["batch_max_records"], section["batch_max_bytes"],
                        callback_numbers=settings.get("send_callback_numbers", False))
        channels.append(Channel(ledger, sink))
    return channels
