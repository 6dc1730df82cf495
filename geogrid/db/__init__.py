"""Persistence: boundary versions, drafts, roster, incidents, users and audit log, in SQLite or
PostGIS.

>>> store = Store("sqlite://")       # an in-memory database, for the example
>>> store.upgrade()
>>> store.districts()
[]
"""

from .engine import default_url, make_engine
from .store import DraftInfo, Duty, Incident, Store, VersionInfo

__all__ = ["DraftInfo", "Duty", "Incident", "Store", "VersionInfo", "default_url", "make_engine"]
