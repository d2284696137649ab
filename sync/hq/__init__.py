"""HQ: the receiver of sync/PROTOCOL.md (a Bottle WSGI app), its storage (SQLite or
PostgreSQL), enrolment, the fleet's health, exports and the Twilio Sync import."""

from ._app import BATCH_PATH, HEARTBEAT_PATH, Receiver, make_app
from ._devserver import DevServer
from ._export import export_records
from ._limits import Limits
from ._publish import publish_pack
from ._settings import Alerts, HqSettings
from .storage import Storage, open_storage

__all__ = ["BATCH_PATH", "HEARTBEAT_PATH", "Alerts", "DevServer", "HqSettings", "Limits",
           "Receiver", "Storage", "export_records", "make_app", "open_storage",
           "publish_pack"]
