"""The locator: which grid owns a place, who handles it, and how sure the answer is.

A dispatcher gets a location (a click, coordinates in WGS-84, CGCS2000, GCJ-02 or BD-09) and must
see at once the second-level grid that owns it, its first-level grid, the people responsible and
whether the point is so close to a boundary that someone should confirm.

>>> loc = Locator(District.load(default_data_dir()))
>>> a = loc.locate(118.93, 32.11)
>>> a.match, a.grid2.code, a.grid1.name
('interior', '320113005007007', '东阳社区')
>>> from geogrid.crs import from_wgs84
>>> b = loc.locate(*from_wgs84(118.93, 32.11, "gcj02"), crs="gcj02")   # the same place
>>> b.grid2.code
'320113005007007'

The edge rule
-------------
Every point of the district belongs to exactly one second-level grid. A point exactly on an edge
shared by two grids, or on a vertex shared by several, belongs to **the grid with the smallest
code** among them; ``match`` then says ``"edge"`` or ``"vertex"`` and ``candidates`` lists the
others at distance 0. A point on the district's outer boundary belongs to the grid whose edge it
is. Ownership is decided on the stored WGS-84 coordinates with exact predicates, so it agrees with
shapely's ``covers``; distances are measured in metres in EPSG:4549.

How it is fast
--------------
The district's bounding box is cut into a table of about 1024 × 1024 cells. A cell that no grid
edge touches is labelled at build time with its owner (or "outside"), so most lookups are one
array read. A cell that an edge crosses is tested exactly, with a ray cast along the row to the
next labelled cell and exact orientation tests: vectorised in NumPy for many points
(:meth:`Locator.locate_many`, tens of millions of points a second; the few points within rounding
of an edge go the single-point way), in pure Python for one (:meth:`Locator.locate`, a few
microseconds). Distances come from lists, per coarse cell, of the edges that can be nearest or
within the confirmation distance, scanned nearest first.

Grids that overlap over whole table cells, or along whole edges, have no single owner there: the
locator refuses them (:class:`~geogrid.errors.DataError`, naming two of them). Slivers narrower
than a cell, such as the rounding overlaps validation lets through, are answered by the edge rule.
"""

from __future__ import annotations

from ..model import District, default_data_dir
from .answers import (
    MATCH_EDGE,
    MATCH_INTERIOR,
    MATCH_OUTSIDE,
    MATCH_VERTEX,
    Candidate,
    Grid,
    Located,
    Location,
    UnitHit,
)
from .locator import Locator, default_locator, locate, locate_many
from .predicates import orient
from .tuning import NEAR_M, RESOLUTION

__all__ = [
    "MATCH_EDGE",
    "MATCH_INTERIOR",
    "MATCH_OUTSIDE",
    "MATCH_VERTEX",
    "NEAR_M",
    "RESOLUTION",
    "Candidate",
    "District",
    "Grid",
    "Located",
    "Location",
    "Locator",
    "UnitHit",
    "default_data_dir",
    "default_locator",
    "locate",
    "locate_many",
    "orient",
]
