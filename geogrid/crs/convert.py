"""Conversions between any two accepted CRSs (GCJ-02 and BD-09 exactly, EPSG codes through
pyproj), of coordinates and of shapely geometries."""

from __future__ import annotations

import numbers
from functools import lru_cache

import numpy as np
import pyproj
import shapely

from ..errors import CoordinateError
from .checks import check_coordinates, parse_coordinate
from .chinese import (
    _flat_arrays,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from .names import CRS_NAMES, normalize_crs


def _identity(x, y):
    if type(x) is float and type(y) is float:
        return x, y
    if isinstance(x, numbers.Real) and isinstance(y, numbers.Real):
        return float(x), float(y)
    fx, fy, shape = _flat_arrays(x, y)
    return fx.reshape(shape).copy(), fy.reshape(shape).copy()


def _pyproj_converter(src: str, dst: str):
    transformer = pyproj.Transformer.from_crs(src, dst, always_xy=True)

    def convert(x, y):
        if isinstance(x, numbers.Real) and isinstance(y, numbers.Real):
            return transformer.transform(float(x), float(y))
        fx, fy, shape = _flat_arrays(x, y)
        rx, ry = transformer.transform(fx, fy)
        return rx.reshape(shape), ry.reshape(shape)

    return convert


_TO_WGS84 = {
    "wgs84": _identity,
    "cgcs2000": _identity,
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}


_FROM_WGS84 = {
    "wgs84": _identity,
    "cgcs2000": _identity,
    "gcj02": wgs84_to_gcj02,
    "bd09": wgs84_to_bd09,
}


_DIRECT = {("gcj02", "bd09"): gcj02_to_bd09, ("bd09", "gcj02"): bd09_to_gcj02}


@lru_cache(maxsize=256)
def _converter(src: str, dst: str):
    """A function (x, y) -> (x, y) from canonical CRS ``src`` to canonical CRS ``dst``."""
    if src in _TO_WGS84 and dst in _FROM_WGS84:
        if (src, dst) in _DIRECT:
            return _DIRECT[src, dst]
        to, frm = _TO_WGS84[src], _FROM_WGS84[dst]
    elif src not in _TO_WGS84 and dst not in _FROM_WGS84:
        return _identity if src == dst else _pyproj_converter(src, dst)
    elif src in _TO_WGS84:
        to, frm = _TO_WGS84[src], _pyproj_converter("EPSG:4326", dst)
    else:
        to, frm = _pyproj_converter(src, "EPSG:4326"), _FROM_WGS84[dst]
    if frm is _identity:
        return to
    if to is _identity:
        return frm

    def convert(x, y):
        return frm(*to(x, y))

    return convert


def to_wgs84(x, y, crs="wgs84"):
    """Coordinates in ``crs`` (any name :func:`normalize_crs` accepts) to WGS-84 lon/lat.

    Floats in, floats out; array-likes in, new float64 arrays out. WGS-84 and CGCS2000 are the
    identity; GCJ-02 and BD-09 are inverted exactly; EPSG codes go through pyproj.

    >>> to_wgs84(118.93, 32.11)
    (118.93, 32.11)
    >>> [round(v, 4) for v in to_wgs84(399011.0, 3554551.0, "EPSG:4549")]
    [118.93, 32.11]
    >>> [round(v, 6) for v in to_wgs84(*wgs84_to_bd09(118.93, 32.11), "bd09")]
    [118.93, 32.11]
    """
    if type(x) is float and type(y) is float and crs == "wgs84":
        return x, y
    try:
        convert = _TO_WGS84.get(crs)  # canonical names skip both caches
    except TypeError:  # unhashable: let normalize_crs explain
        convert = None
    if convert is None:
        convert = _converter(normalize_crs(crs), "wgs84")
    return convert(x, y)


def point_to_wgs84(x, y, crs="wgs84") -> tuple[float, float, tuple | None]:
    """One input point (numbers or text, any CRS spelling) as WGS-84 ``(lon, lat, given)``:
    ``given`` is the point as parsed, ``(x, y, crs)``, or None when it was already WGS-84 floats
    in range, which pass through untouched (the locator's hot path: nothing parsed twice).

    >>> point_to_wgs84(118.93, 32.11)
    (118.93, 32.11, None)
    >>> point_to_wgs84("118.93", "32.11", "WGS-84")
    (118.93, 32.11, (118.93, 32.11, 'wgs84'))
    """
    if (
        crs == "wgs84"
        and type(x) is float
        and type(y) is float
        and -180.0 <= x <= 180.0
        and -90.0 <= y <= 90.0
    ):
        return x, y, None
    crs = normalize_crs(crs)
    x, y = parse_coordinate(x, "x"), parse_coordinate(y, "y")
    lon, lat = input_to_wgs84(x, y, crs)
    return float(lon), float(lat), (x, y, crs)


def input_to_wgs84(x, y, crs="wgs84"):
    """Check input coordinates in ``crs`` and convert them to WGS-84 lon/lat, checking the
    result too: a projected point far outside its CRS's area has no real lon/lat. Float64 arrays
    already in WGS-84 (or CGCS2000) come back as they are, not copied.

    >>> input_to_wgs84(399011.0, 3554551.0, "EPSG:4549")[1] > 32
    True
    >>> input_to_wgs84(1e30, 1e30, "EPSG:4549")
    Traceback (most recent call last):
    ...
    geogrid.errors.CoordinateError: (1e+30, 1e+30) in EPSG:4549 is outside the area where it converts to WGS-84
    """
    crs = normalize_crs(crs)
    check_coordinates(x, y, crs)
    if _TO_WGS84.get(crs) is _identity and np.ndim(x) and np.ndim(y):
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)  # no copy of big arrays
    lon, lat = to_wgs84(x, y, crs)
    if crs not in CRS_NAMES:
        try:
            check_coordinates(lon, lat, "wgs84")
        except CoordinateError:
            where = f"({x!r}, {y!r})" if np.ndim(x) == 0 else "some points"
            raise CoordinateError(
                f"{where} in {crs} is outside the area where it converts to WGS-84"
            ) from None
    return lon, lat


def from_wgs84(lon, lat, crs="wgs84"):
    """WGS-84 lon/lat to coordinates in ``crs``; the inverse of :func:`to_wgs84`.

    >>> [round(v, 6) for v in from_wgs84(118.93, 32.11, "gcj02")]
    [118.935051, 32.107787]
    >>> [round(v) for v in from_wgs84(118.93, 32.11, 4549)]
    [399011, 3554551]
    """
    if type(lon) is float and type(lat) is float and crs == "wgs84":
        return lon, lat
    try:
        convert = _FROM_WGS84.get(crs)
    except TypeError:
        convert = None
    if convert is None:
        convert = _converter("wgs84", normalize_crs(crs))
    return convert(lon, lat)


def transform_geometry(geoms, src, dst="wgs84"):
    """A shapely geometry, or an array of them, converted from CRS ``src`` to CRS ``dst``.

    Every coordinate is converted on its own, so a vertex shared by neighbouring polygons stays
    shared. Z values are kept unchanged. When ``src`` and ``dst`` name the same system (or WGS-84
    and CGCS2000), ``geoms`` is returned as it is.

    >>> from shapely import Point
    >>> p = transform_geometry(Point(wgs84_to_gcj02(118.93, 32.11)), "gcj02")
    >>> round(p.x, 6), round(p.y, 6)
    (118.93, 32.11)
    """
    convert = _converter(normalize_crs(src), normalize_crs(dst))
    if convert is _identity:
        return geoms

    def apply(x, y, z=None):
        nx, ny = convert(x, y)
        return (nx, ny) if z is None else (nx, ny, z)

    return shapely.transform(geoms, apply, include_z=None, interleaved=False)
