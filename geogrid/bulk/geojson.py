"""Reading points from GeoJSON: a FeatureCollection of Points, a Feature, a MultiPoint or a
Point, and a legacy ``crs`` member."""

from __future__ import annotations

import json
import math

import orjson

from .. import crs as _crs
from ..errors import DataError
from ..nesting import MAX_DEPTH, too_deep
from .points import GeoJSONPoints, _check_count

_GEOJSON_KINDS = "a GeoJSON FeatureCollection of Points, a Feature, a MultiPoint or a Point"


def _loads(data: bytes | str):
    """Parsed JSON: orjson (several times faster on 100,000 features), else the standard module,
    which also reads what orjson refuses but a point can still be told about (integers beyond
    64 bits, ``NaN``) and words its errors better."""
    try:
        return orjson.loads(data)
    except (orjson.JSONDecodeError, RecursionError):
        pass
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise DataError(f"not valid JSON: {str(exc)[:120]}") from None


def _number(v) -> float:
    """A JSON coordinate as a float (NaN when it is not a number)."""
    t = type(v)
    if t is float:
        return v
    if t is int:
        try:
            return float(v)
        except OverflowError:
            return math.nan
    return math.nan


def _position(pos) -> tuple[float, float, str | None]:
    if type(pos) is not list or len(pos) < 2:
        return math.nan, math.nan, "coordinates must be an array [x, y]"
    if type(pos[0]) not in (int, float) or type(pos[1]) not in (int, float):
        return math.nan, math.nan, "coordinates must be numbers"
    return _number(pos[0]), _number(pos[1]), None


def _point_of(feature) -> tuple[float, float, str | None]:
    if type(feature) is not dict:
        return math.nan, math.nan, "not a GeoJSON Feature"
    geom = feature.get("geometry")
    if type(geom) is not dict:
        return math.nan, math.nan, "the feature has no geometry"
    if geom.get("type") != "Point":
        return math.nan, math.nan, f"geometry must be a Point, got {str(geom.get('type'))[:30]!r}"
    return _point(geom)


def _point(geometry: dict) -> tuple[float, float, str | None]:
    return _position(geometry.get("coordinates"))


#: Per kind of GeoJSON object, the member holding its points (None: the object is the one point)
#: and how a point is read.
_READERS = {
    "FeatureCollection": ("features", _point_of),
    "Feature": (None, _point_of),
    "MultiPoint": ("coordinates", _position),
    "Point": (None, _point),
}


def _check_depth(obj, kind: str, member: str | None, items: list) -> None:
    """Raise :class:`~geogrid.errors.DataError` for a feature (or the object around them) nested
    deeper than :data:`~geogrid.nesting.MAX_DEPTH`, naming it."""
    if member is None:
        if too_deep(obj, MAX_DEPTH):
            what = "the feature" if kind == "Feature" else f"the {kind}"
            raise DataError(
                f"{what} nests arrays and objects deeper than {MAX_DEPTH} levels "
                "(in its properties?); flatten them"
            )
        return
    word = "point" if kind == "MultiPoint" else "feature"
    for i, item in enumerate(items):
        if too_deep(item, MAX_DEPTH):
            raise DataError(
                f"{word} {i + 1} nests arrays and objects deeper than {MAX_DEPTH} levels "
                "(in its properties?); flatten them"
            )
    rest = {k: v for k, v in obj.items() if k != member}
    if too_deep(rest, MAX_DEPTH):
        raise DataError(
            f"the {kind} nests arrays and objects deeper than {MAX_DEPTH} levels outside its "
            f"{member}; flatten them"
        )


def _legacy_crs(obj: dict) -> str | None:
    """The CRS named by a GeoJSON 2008 ``crs`` member (as QGIS and GDAL still write)."""
    member = obj.get("crs")
    if member is None:
        return None
    props = member.get("properties") if isinstance(member, dict) else None
    name = props.get("name") if isinstance(props, dict) else None
    if not isinstance(name, str):
        raise DataError('the "crs" member must be {"type": "name", "properties": {"name": ...}}')
    return _crs.normalize_crs(name)


def read_geojson(data: bytes | str, *, limit: int | None = None) -> GeoJSONPoints:
    """The points of a GeoJSON text: a FeatureCollection of Point features, a Feature, a
    MultiPoint or a Point.

    A feature without a Point, or a position that is not two numbers, gets an error. Raises
    :class:`~geogrid.errors.DataError` for text that is not JSON or not one of those objects (or
    a malformed ``crs`` member, or a feature nested deeper than
    :data:`~geogrid.nesting.MAX_DEPTH` levels), :class:`~geogrid.errors.CRSError` for an unknown
    CRS there, and :class:`TooManyPoints` for more than ``limit`` points.
    """
    obj = _loads(data)
    kind = obj.get("type") if isinstance(obj, dict) else None
    member, read = _READERS.get(kind, (None, None)) if isinstance(kind, str) else (None, None)
    if read is None:
        got = str(kind)[:40] if kind else "something else"
        raise DataError(f"expected {_GEOJSON_KINDS}, got {got}")
    if member is None:
        items = [obj]
    else:
        items = obj.get(member)
        if not isinstance(items, list):
            raise DataError(f'a {kind} needs a "{member}" array')
        _check_count(len(items), limit)
    _check_depth(obj, kind, member, items)
    found = [read(item) for item in items]
    crs = _legacy_crs(obj)
    xs = [p[0] for p in found]
    ys = [p[1] for p in found]
    errors = {i: p[2] for i, p in enumerate(found) if p[2] is not None}
    return GeoJSONPoints(kind, obj, items, xs, ys, errors, crs)
