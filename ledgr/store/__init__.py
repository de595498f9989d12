"""The node's durable store (LMDB): the only package that imports ``lmdb``. See ``docs/store.md``."""

from ledgr.store.batch import BlockCommit
from ledgr.store.env import StoreSettings
from ledgr.store.store import SCHEMA_VERSION, Store
from ledgr.store.view import OpLocation, StoreView, Tip

__all__ = ["SCHEMA_VERSION", "BlockCommit", "OpLocation", "Store", "StoreSettings", "StoreView", "Tip"]
