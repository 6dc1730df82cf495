"""The data layer: everything geogrid keeps, on SQLite or PostgreSQL/PostGIS, behind one class.

Every method that changes something runs in one transaction and writes its audit record in the
same transaction, so a process killed at any point leaves the previous state whole.

:class:`Store` is made of one part per aggregate, each in its own module over the shared
:class:`~.base.StoreBase` (the engine and its transactions):

* :mod:`.versions`: districts and boundary versions (drafts, publishing, loading a version);
* :mod:`.drafts`: a planner's drafts, their edits, undo/redo, rebasing and publishing;
* :mod:`.roster`: the duty roster;
* :mod:`.accounts`: users and API tokens;
* :mod:`.incidents`: incidents and their event logs;
* :mod:`.warnings`: what the early-warning rules read, and their acknowledgements;
* :mod:`.audit`: the audit log.

Boundary versions follow MapIt's generations: :meth:`Store.create_version` stores a *draft*
(validated first: bad data never gets in); :meth:`Store.publish` makes it current. A published
version never changes. Publishing checks that the current version is still the draft's base;
of two publishes from the same base exactly one wins and the other gets :class:`Conflict`.
"""

from __future__ import annotations

from ..incidents import Incident
from ..roster import _PEOPLE_ATTRS, ROSTER_ROLES, Duty, _people
from .accounts import AccountStore
from .audit import AuditStore
from .base import StoreBase, _own_errors
from .drafts import DraftEdit, DraftInfo, DraftStore
from .feed import FeedStore
from .incidents import IncidentStore, _incident
from .roster import RosterStore
from .versions import VersionInfo, VersionStore, _grid_rows, _unit_rows
from .warnings import WarningStore


class Store(
    VersionStore,
    DraftStore,
    RosterStore,
    AccountStore,
    IncidentStore,
    WarningStore,
    FeedStore,
    AuditStore,
    StoreBase,
):
    """All of geogrid's persistent state in one database."""


__all__ = [
    "ROSTER_ROLES",
    "DraftEdit",
    "DraftInfo",
    "Duty",
    "Incident",
    "Store",
    "StoreBase",
    "VersionInfo",
    "_PEOPLE_ATTRS",
    "_grid_rows",
    "_incident",
    "_own_errors",
    "_people",
    "_unit_rows",
]
