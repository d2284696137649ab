"""The reference HQ receiver (``edgecall hq serve``) and its export."""

from ._db import HqDb
from ._export import export_records
from ._publish import publish_pack
from ._server import BATCH_PATH, HqServer, HqSettings, load_box_secrets

__all__ = ["BATCH_PATH", "HqDb", "HqServer", "HqSettings", "export_records", "load_box_secrets",
           "publish_pack"]
