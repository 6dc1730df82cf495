"""Locating: the answer a dispatcher sees for a place, built here and nowhere else.

>>> from geogrid.locate import default_locator
>>> a = answer(default_locator(), 118.93, 32.11, units=2)
>>> a.location.grid2.code, len(a.units), sorted(a.to_dict())[:4]
('320113005007007', 2, ['candidates', 'distance_m', 'grid1', 'grid2'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .. import bulk
from .. import crs as _crs
from ..access import Actor
from ..locate import Location, Locator, UnitHit

#: Nearest units a single-point answer may carry, and how many by default.
MAX_UNITS = 50
DEFAULT_UNITS = 5


@dataclass(frozen=True)
class LocateAnswer:
    """Who owns a place: the location, the nearest units, the version answered from and the
    point in the map system asked for (``display``: crs, lon, lat), if any."""

    location: Location
    units: list[UnitHit] = field(default_factory=list)
    version: int | None = None
    display: tuple[str, float, float] | None = None

    def to_dict(self) -> dict:
        out = self.location.to_dict()
        if self.version is not None:
            out["version"] = self.version
        out["units"] = [u.to_dict() for u in self.units]
        if self.display is not None:
            name, x, y = self.display
            out["display"] = {"crs": name, "lon": round(x, 7), "lat": round(y, 7)}
        return out


def answer(
    locator: Locator,
    x,
    y,
    crs: str = "wgs84",
    *,
    units: int = 0,
    display: str | None = None,
    version: int | None = None,
) -> LocateAnswer:
    """The answer for one point from ``locator`` (the coordinates are parsed and converted
    once, by the locator; the units are looked up at the WGS-84 point it found)."""
    where = locator.locate(x, y, crs)
    hits = locator.nearest_units(where.lon, where.lat, units) if units else []
    shown = None
    if display is not None:
        shown = (display, *_crs.from_wgs84(where.lon, where.lat, display))
    return LocateAnswer(where, hits, version, shown)


def locate(
    svc,
    actor: Actor,
    x,
    y,
    crs: str = "wgs84",
    *,
    units: int = DEFAULT_UNITS,
    at: datetime | None = None,
    display: str | None = None,
) -> LocateAnswer:
    """Locate one point against the current version and roster, or as they were at ``at``."""
    actor.require("locate")
    version, loc = svc.current() if at is None else svc.locator_at(at)
    return answer(loc, x, y, crs, units=units, display=display, version=version.number)


def locate_many(svc, actor: Actor, points: bulk.Points, crs: str | None, *, fields, at=None):
    """Locate every point of a bulk upload: (version, :class:`geogrid.bulk.Results`)."""
    actor.require("locate_many")
    version, loc = svc.current() if at is None else svc.locator_at(at)
    return version, bulk.locate(points, loc, crs, fields=fields)
