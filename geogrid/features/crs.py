"""Coordinate reference systems by reference (OGC API – Features Part 2): the CRS URIs the
service offers, and coordinates converted into each in the axis order its definition gives.

CRS84 is WGS-84 longitude/latitude (the GeoJSON order, and the storage CRS). EPSG:4326 and
EPSG:4490 (CGCS2000) are latitude first and EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E,
the metric CRS geogrid measures in) northing first, as their EPSG definitions say and as Part 2
requires; GIS clients such as GDAL read them that way.

>>> crs_key("http://www.opengis.net/def/crs/EPSG/0/4549")
'EPSG:4549'
>>> crs_key("EPSG:4549")
Traceback (most recent call last):
...
geogrid.errors.InputError: crs: one of http://www.opengis.net/def/crs/OGC/1.3/CRS84, http://www.opengis.net/def/crs/EPSG/0/4326, http://www.opengis.net/def/crs/EPSG/0/4490, http://www.opengis.net/def/crs/EPSG/0/4549, got 'EPSG:4549'
>>> from shapely import Point
>>> p = to_crs([Point(118.93, 32.11)], "EPSG:4549")[0]
>>> round(p.x), round(p.y)  # northing, easting
(3554551, 399011)
>>> [round(v, 6) for v in bbox_to_wgs84((p.x, p.y, p.x, p.y), "EPSG:4549")]
[118.93, 32.11, 118.93, 32.11]
"""

from __future__ import annotations

import numpy as np
import shapely

from ..crs.convert import to_wgs84, transform_geometry
from ..errors import InputError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
#: The CRS URIs offered, each with geogrid's name of it and whether its first axis is north.
OFFERED = {
    CRS84: ("wgs84", False),
    _EPSG + "4326": ("wgs84", True),
    _EPSG + "4490": ("cgcs2000", True),
    _EPSG + "4549": ("EPSG:4549", True),
}
#: The key of each offered URI, as :func:`crs_key` returns it.
KEYS = {uri: "CRS84" if uri == CRS84 else "EPSG:" + uri.rsplit("/", 1)[1] for uri in OFFERED}
URIS = {key: uri for uri, key in KEYS.items()}


def crs_key(value: str | None, name: str = "crs") -> str:
    """``'CRS84'`` or ``'EPSG:NNNN'`` for an offered CRS URI (``None``: CRS84); an
    :class:`InputError` naming the parameter for any other."""
    if value is None or value == "":
        return "CRS84"
    uri = value.strip().strip("[]<>")  # a safe CURIE [EPSG:4326] is not accepted, its URI is
    if uri not in OFFERED:
        raise InputError(f"{name}: one of {', '.join(OFFERED)}, got {value[:80]!r}")
    return KEYS[uri]


def to_crs(geoms, key: str):
    """WGS-84 geometries (an array) in the CRS ``key``, axes in its definition's order."""
    name, north_first = OFFERED[URIS[key]]
    out = transform_geometry(geoms, "wgs84", name)
    if north_first:
        out = shapely.transform(out, lambda c: c[:, ::-1])
    return out


def bbox_to_wgs84(bbox, key: str) -> tuple[float, float, float, float]:
    """A box given in CRS ``key`` (its axis order) as a WGS-84 ``(west, south, east, north)``
    box enclosing it (its four corners converted)."""
    name, north_first = OFFERED[URIS[key]]
    lo1, lo2, hi1, hi2 = bbox
    (w, s, e, n) = (lo2, lo1, hi2, hi1) if north_first else (lo1, lo2, hi1, hi2)
    lon, lat = to_wgs84(np.array([w, e, e, w]), np.array([s, s, n, n]), name)
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


__all__ = ["CRS84", "OFFERED", "URIS", "bbox_to_wgs84", "crs_key", "to_crs"]
