"""The use cases: every operation a user or another system can ask of geogrid, written once.

The web pages, the HTTP API (``/api/v1``), Open311 and the command line call these functions
and nothing below them: each takes the :class:`~geogrid.access.Actor` asking, checks its role and
grid scope (:class:`~geogrid.errors.Forbidden` otherwise), does the work in one transaction where
it changes something, and returns plain values that the caller serialises. A view is then three
lines: parse the request, call one function here, write the answer.

* :mod:`.locating`: which grid owns a place and who handles it, one point or many;
* :mod:`.boundaries`: the grids and units of a version, the versions, publishing, importing;
* :mod:`.planning`: the planner's drafts, their edits, impact, publishing, rebase and rollback;
* :mod:`.roster`: who is on duty, and changing it;
* :mod:`.incidents`: reporting an incident and moving it through the four-step method;
* :mod:`.warnings`: the early warnings over the incident history, and acknowledging them;
* :mod:`.accounts`: users and API tokens.
"""

from __future__ import annotations

from . import accounts, boundaries, incidents, locating, planning, roster
from .locating import DEFAULT_UNITS, MAX_UNITS, LocateAnswer, Point, locate, locate_many

__all__ = [
    "DEFAULT_UNITS",
    "MAX_UNITS",
    "LocateAnswer",
    "Point",
    "accounts",
    "boundaries",
    "incidents",
    "locate",
    "locate_many",
    "locating",
    "planning",
    "roster",
]
