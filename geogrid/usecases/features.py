"""The layers as feature collections (what OGC API – Features serves, :mod:`web.ogc`): the
district outline, the first- and second-level grids and the units of any version (the
current one by default), and today's open incidents.

Who reads what follows the rest of geogrid: the boundaries are the map's base (every role,
``grids``); units are the register (``units``: a grid worker gets their own grid's); the open
incidents are ``read_incidents`` (a grid worker: their grid's; a service office: those
escalated to it), without the reporter's name or contact.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import shapely

from ..access import Actor
from ..db.types import utcnow
from ..errors import NotFound
from ..features.crs import to_crs
from ..features.layers import BOUNDARY_LAYERS, LayerCache, feature_bytes
from ..features.query import FeatureQuery
from ..incidents.query import MAX_LIMIT as MAX_INCIDENTS
from ..incidents.query import IncidentQuery
from ..incidents.rules import OPEN
from . import incidents
from .boundaries import version_data

#: Every collection, in the order the service lists them.
COLLECTIONS = (*BOUNDARY_LAYERS, "incidents")
#: The operation reading each collection needs (:mod:`geogrid.access`).
OPERATIONS = {"district": "grids", "grids1": "grids", "grids2": "grids", "units": "units",
              "incidents": "read_incidents"}  # fmt: skip
#: The properties of an incident feature, and those it may be filtered on.
INCIDENT_PROPERTIES = (
    "id", "category", "state", "grid_code", "grid1_code", "unit_code", "address",
    "description", "channel", "worker", "office", "created_at", "due_at", "overdue",
)  # fmt: skip
INCIDENT_QUERYABLES = ("state", "category", "grid_code", "grid1_code", "channel", "office")

_lock = threading.Lock()


@dataclass(frozen=True)
class CollectionInfo:
    """What a collection document says: its id, geometry type, WGS-84 extent, the time its
    features span (incidents) and the properties it may be filtered on."""

    id: str
    geometry_type: str
    bbox: tuple[float, float, float, float]
    version: int | None  # the boundary version it shows (None: not versioned)
    queryables: tuple[str, ...]
    interval: tuple[datetime | None, datetime | None] | None = None

    @property
    def temporal(self) -> bool:
        return self.interval is not None


@dataclass(frozen=True)
class FeaturePage:
    """One page of a collection: the features as GeoJSON bytes, how many matched in all, the
    boundary version they belong to and the query that chose them."""

    collection: str
    features: tuple[bytes, ...]
    matched: int
    version: int | None
    query: FeatureQuery

    @property
    def returned(self) -> int:
        return len(self.features)

    @property
    def has_next(self) -> bool:
        return self.query.offset + self.returned < self.matched


def _layers(svc) -> LayerCache:
    with _lock:
        return svc.__dict__.setdefault("_feature_layers", LayerCache())


def _check(actor: Actor, collection: str) -> None:
    if collection not in OPERATIONS:
        raise NotFound(f"no collection {collection[:40]!r} (collections: {', '.join(COLLECTIONS)})")
    actor.require(OPERATIONS[collection])


def readable(actor: Actor) -> list[str]:
    """The collections ``actor`` may read, in order."""
    return [c for c in COLLECTIONS if actor.may(OPERATIONS[c])]


def collection(svc, actor: Actor, name: str, *, version: int | None = None) -> CollectionInfo:
    """The document of collection ``name`` (of boundary version ``version``)."""
    _check(actor, name)
    if name == "incidents":
        if version is not None:
            raise NotFound("the open incidents are today's: they have no boundary versions")
        info, district = version_data(svc, actor)
        first, total = _incidents(
            svc, actor, IncidentQuery(states=tuple(OPEN), sort="created_at", limit=1)
        )
        since = first[0].created_at if first else None
        return CollectionInfo(name, "point", tuple(district.territory().bounds), None,
                              INCIDENT_QUERYABLES, (since, None))  # fmt: skip
    info, district = version_data(svc, actor, version, operation=OPERATIONS[name])
    _, _, queryable, kind = BOUNDARY_LAYERS[name]
    return CollectionInfo(name, kind, tuple(district.territory().bounds), info.number, queryable)


def queryables(name: str, actor: Actor | None = None) -> tuple[str, ...]:
    """The properties collection ``name`` may be filtered on (``name=value``); with
    ``actor``, only if they may read the collection."""
    if actor is not None:
        _check(actor, name)
    if name == "incidents":
        return INCIDENT_QUERYABLES
    if name not in BOUNDARY_LAYERS:
        raise NotFound(f"no collection {name[:40]!r} (collections: {', '.join(COLLECTIONS)})")
    return BOUNDARY_LAYERS[name][2]


def parse_query(name: str, args, *, one: bool = False) -> FeatureQuery:
    """The items query of collection ``name`` from a query string's values (``one``: of one
    feature, which takes ``f``, ``crs`` and, for the boundaries, ``version`` only)."""
    if name == "incidents":
        return FeatureQuery.parse(args, queryables=INCIDENT_QUERYABLES, temporal=True,
                                  max_limit=MAX_INCIDENTS, one=one)  # fmt: skip
    return FeatureQuery.parse(args, queryables=queryables(name), versioned=True, one=one)


def items(svc, actor: Actor, name: str, query: FeatureQuery) -> FeaturePage:
    """One page of collection ``name``'s features matching ``query``, that ``actor`` may see."""
    _check(actor, name)
    if name == "incidents":
        return _incident_page(svc, actor, query)
    info, district = version_data(svc, actor, query.version, operation=OPERATIONS[name])
    cache = _layers(svc)
    layer = cache.layer(info.id, district, name)
    scope = actor.scope if name == "units" else None
    idx = layer.select(bbox=query.bbox, filters=query.filters, scope=scope)
    page = idx[query.offset : query.offset + query.limit]
    encoded = cache.encoded(info.id, district, name, query.crs)
    return FeaturePage(name, tuple(encoded[i] for i in page), len(idx), info.number, query)


def item(svc, actor: Actor, name: str, fid: str, *, version: int | None = None,
         crs: str = "CRS84") -> FeaturePage:  # fmt: skip
    """The one feature ``fid`` of collection ``name`` (a page of one)."""
    _check(actor, name)
    query = FeatureQuery(limit=1, crs=crs, version=version)
    if name == "incidents":
        number = fid if fid.isascii() and fid.isdigit() and len(fid) < 10 else None
        page = _incident_page(svc, actor, query, ids=(int(number),) if number else (-1,))
        if not page.features:
            raise NotFound(f"no open incident {fid[:40]!r} that you may see")
        return page
    info, district = version_data(svc, actor, version, operation=OPERATIONS[name])
    cache = _layers(svc)
    layer = cache.layer(info.id, district, name)
    i = layer.index_of(fid)
    if name == "units":
        actor.require_grid(layer.grids[i])
    feature = cache.encoded(info.id, district, name, crs)[i]
    return FeaturePage(name, (feature,), 1, info.number, query)


# ---------------------------------------------------------------------- incidents
def _incidents(svc, actor: Actor, query: IncidentQuery):
    total, found = incidents.search(svc, actor, query)
    return found, total


def _incident_page(svc, actor: Actor, query: FeatureQuery, ids=()) -> FeaturePage:
    filters = dict(query.filters)
    grid, community = filters.get("grid_code"), filters.get("grid1_code")
    wanted = IncidentQuery(
        ids=ids,
        states=(filters["state"],) if "state" in filters else tuple(sorted(OPEN)),
        grid=grid,
        community=community,
        category=filters.get("category"),
        channel=filters.get("channel"),
        office=filters.get("office"),
        since=query.since,
        until=query.until,
        bbox=query.bbox,
        sort="id",
        limit=query.limit,
        offset=query.offset,
    )
    if "state" in filters and filters["state"] not in OPEN:
        return FeaturePage("incidents", (), 0, None, query)  # only open incidents are served
    found, total = _incidents(svc, actor, wanted)
    now = utcnow()
    geoms = np.array([shapely.Point(i.lon, i.lat) for i in found], dtype=object)
    if query.crs != "CRS84" and len(geoms):
        geoms = to_crs(geoms, query.crs)
    written = shapely.to_geojson(geoms) if len(geoms) else []
    feats = tuple(
        feature_bytes(i.id, g, _incident_properties(i, now))
        for i, g in zip(found, written, strict=True)
    )
    return FeaturePage("incidents", feats, total, None, query)


def _incident_properties(inc, now) -> dict:
    props = {k: getattr(inc, k) for k in INCIDENT_PROPERTIES if k != "overdue"}
    props["overdue"] = inc.overdue(now)
    for k in ("created_at", "due_at"):
        if props[k] is not None:
            props[k] = props[k].isoformat().replace("+00:00", "Z")
    return props


__all__ = [
    "COLLECTIONS",
    "CollectionInfo",
    "FeaturePage",
    "collection",
    "item",
    "items",
    "parse_query",
    "queryables",
    "readable",
]
