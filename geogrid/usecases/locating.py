"""Locating: the answer a dispatcher sees for a place, built here and nowhere else.

>>> from geogrid.locate import default_locator
>>> a = answer(default_locator(), 118.93, 32.11, units=2)
>>> a.location.grid2.code, len(a.units), sorted(a.to_dict())[:4]
('320113005007007', 2, ['candidates', 'distance_m', 'grid1', 'grid2'])
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from .. import bulk
from .. import crs as _crs
from ..access import Actor
from ..locate import Location, Locator, UnitHit

#: Nearest units a single-point answer may carry, and how many by default.
MAX_UNITS = 50
DEFAULT_UNITS = 5


@dataclass(frozen=True)
class Point:
    """A place as the caller gave it, parsed once: ``x``, ``y`` (floats) in ``crs`` (its
    canonical name) and the same place in WGS-84 (``lon``, ``lat``, checked). Callers that parse
    their own input (the HTTP API) build it with :meth:`of`; :meth:`parse` takes raw input.

    >>> Point.parse(" 118.93 ", "32.11", "WGS-84")
    Point(x=118.93, y=32.11, crs='wgs84', lon=118.93, lat=32.11)
    """

    x: float
    y: float
    crs: str
    lon: float
    lat: float

    @classmethod
    def of(cls, x: float, y: float, crs: str = "wgs84") -> Point:
        """From parsed coordinates in a canonical CRS (checked and converted here)."""
        if crs == "wgs84" and -180.0 <= x <= 180.0 and -90.0 <= y <= 90.0:
            return cls(x, y, crs, x, y)
        lon, lat = _crs.input_to_wgs84(x, y, crs)
        return cls(x, y, crs, float(lon), float(lat))

    @classmethod
    def parse(cls, x, y, crs="wgs84") -> Point:
        """From raw input: any CRS spelling, coordinates as strings or numbers."""
        name = _crs.normalize_crs(crs)
        return cls.of(_crs.parse_coordinate(x, "x"), _crs.parse_coordinate(y, "y"), name)

    @property
    def given(self) -> tuple[float, float, str] | None:
        """The input as the answer echoes it (None for WGS-84)."""
        return None if self.crs == "wgs84" else (self.x, self.y, self.crs)


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
    y=None,
    crs: str = "wgs84",
    *,
    units: int = 0,
    display: str | None = None,
    version: int | None = None,
) -> LocateAnswer:
    """The answer for one point from ``locator``: ``x`` is a :class:`Point` (``y`` and ``crs``
    unused), whose WGS-84 floats the locator takes as they are, or raw coordinates that the
    locator parses; the units are looked up at the point it found."""
    if isinstance(x, Point):
        where = locator.locate(x.lon, x.lat, "wgs84")  # WGS-84 floats: nothing parsed again
        if x.given is not None:
            where = replace(where, input=x.given)
    else:
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
    y=None,
    crs: str = "wgs84",
    *,
    units: int = DEFAULT_UNITS,
    at: datetime | None = None,
    display: str | None = None,
) -> LocateAnswer:
    """Locate one point against the current version and roster, or as they were at ``at``
    (``x`` a :class:`Point`, or raw coordinates as for :func:`answer`)."""
    actor.require("locate")
    version, loc = svc.current() if at is None else svc.locator_at(at)
    return answer(loc, x, y, crs, units=units, display=display, version=version.number)


def locate_many(svc, actor: Actor, points: bulk.Points, crs: str | None, *, fields, at=None):
    """Locate every point of a bulk upload: (version, :class:`geogrid.bulk.Results`)."""
    actor.require("locate_many")
    version, loc = svc.current() if at is None else svc.locator_at(at)
    return version, bulk.locate(points, loc, crs, fields=fields)
