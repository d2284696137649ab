"""From a config to the configured sinks, each with its own ledger (its own batches and its
own acknowledgement cursor)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.config import Config, ConfigError, ConfigProblem

from ._audio_sync import AudioUploader
from ._ledger import Ledger, connect
from ._runner import Sink
from .codec import batch_encoder
from .config import SECRET_KEYS, SYNC_DEFAULTS, twilio_login


@dataclass
class Channel:
    ledger: Ledger
    sink: Sink
    audio: AudioUploader | None = None  # recordings after the records (the HQ sink only)


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


def build_sinks(config: Config, only: str | None = None) -> list[Sink]:
    """The configured sinks (a missing secret is a ConfigError here, at start)."""
    box = config.box_id
    sinks: list[Sink] = []
    for name in configured_sinks(config):
        if only not in (None, "all", name):
            continue
        section = config.sections[name]
        if name == "hq":
            from ._hq import HqSink

            verify: bool | str = section["verify_tls"]
            if verify and section["ca_file"]:
                verify = str(config.resolve(section["ca_file"]))
            sinks.append(HqSink(section["url"], box, _secret(config, "hq_secret"), verify,
                                section["connect_timeout_s"], section["read_timeout_s"]))
        else:
            from ._twilio import TwilioSink

            user, secret_key = twilio_login(section)
            sinks.append(TwilioSink(section["base_url"], section["service_sid"], user,
                                    _secret(config, secret_key, 8).decode(),
                                    section["maps"], item_ttl_s=section["item_ttl_s"],
                                    writes_per_s=section["writes_per_s"],
                                    read_timeout_s=section["read_timeout_s"]))
    return sinks


def open_channels(config: Config, db_path: Path, sinks: list[Sink]) -> list[Channel]:
    """Each sink with its ledger, on a connection of its own. Raises sqlite3.Error when the
    database cannot be written (a full disk); nothing is left open then."""
    settings = sync_settings(config)
    box = config.box_id
    from ._identity import mismatch

    wrong = mismatch(box, db_path, only_unsent=True)
    if wrong:  # HQ would refuse (and park) every such batch: stop before sending any
        raise ConfigError(str(config.path), [ConfigProblem("box.id", wrong)])
    channels: list[Channel] = []
    try:
        for sink in sinks:
            conn = connect(db_path)
            try:
                ledger = Ledger(conn, sink.name, box,
                                batch_encoder(box, settings["compression"]),
                                settings["batch_max_records"],
                                config.sections[sink.name]["batch_max_bytes"],
                                callback_numbers=settings.get("send_callback_numbers", False))
            except BaseException:
                conn.close()
                raise
            channels.append(Channel(ledger, sink, _uploader(ledger, sink, settings,
                                                            config.sections[sink.name])))
    except BaseException:
        for channel in channels:
            channel.ledger.conn.close()
        raise
    return channels


def _uploader(ledger: Ledger, sink: Sink, settings: dict[str, Any], section: dict[str, Any]
              ) -> AudioUploader | None:
    """HQ takes recordings; Twilio Sync has no place for their bytes (docs/sync.md)."""
    from ._hq import HqSink

    if not isinstance(sink, HqSink):
        return None
    from ._audio_http import HqAudio

    return AudioUploader(ledger, HqAudio(sink), settings.get("audio_bytes_per_day", 0),
                         section["batch_max_bytes"])


def build_channels(config: Config, db_path: Path, only: str | None = None) -> list[Channel]:
    """One channel per configured sink, each ledger on its own connection."""
    return open_channels(config, db_path, build_sinks(config, only))
