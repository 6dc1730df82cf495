"""Coordinate reference systems: what geogrid stores, what it measures in, what it accepts.

geogrid stores and serves WGS-84 longitude/latitude (EPSG:4326, RFC 7946 axis order) and measures
areas and distances in metres in CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549), never in
degrees.

>>> x, y = to_metric(118.93, 32.11)
>>> round(x), round(y)
(399011, 3554551)
>>> lon, lat = from_metric(x, y)
>>> round(lon, 9), round(lat, 9)
(118.93, 32.11)

Accepted input systems
----------------------
Coordinates reach geogrid in whatever system the sender's map speaks, so every entry point takes a
``crs`` argument, spelled any way :func:`normalize_crs` understands:

``wgs84``
    WGS-84 lon/lat (also ``WGS-84``, ``EPSG:4326``, ``4326``, ``CRS84``): GPS receivers,
    OpenStreetMap, GeoJSON files.
``cgcs2000``
    China Geodetic Coordinate System 2000 lon/lat (``EPSG:4490``): Tianditu and official
    surveying data. It differs from WGS-84 by centimetres, far below the accuracy of any grid
    boundary, so geogrid treats it as identical to WGS-84 and does not shift it.
``gcj02``
    GCJ-02 (also ``GCJ-02``, ``gcj``), the obfuscated "Mars" system every map published in China
    must use: AMap/Gaode, Tencent and WeChat location APIs, so most phones send it. It is WGS-84
    plus a smooth pseudo-random offset of a few hundred metres: about 535 m here in Xianlin
    (at 118.93 E, 32.11 N 477 m east and 245 m south), more than the width of a 460 m
    second-level grid, so a GCJ-02 point taken for WGS-84 lands in the wrong grid.
``bd09``
    BD-09 (also ``BD-09``, ``bd``), Baidu's lon/lat: GCJ-02 with a second offset, about 1.17 km
    from WGS-84 here.
``EPSG:NNNN``
    Any other geographic or projected CRS with an EPSG code, converted with pyproj, for example
    ``EPSG:4549`` x/y in metres.

>>> lon, lat = wgs84_to_gcj02(118.93, 32.11)       # a WGS-84 point in Xianlin, as AMap shows it
>>> round(lon, 6), round(lat, 6)
(118.935051, 32.107787)
>>> round(distance_m(118.93, 32.11, lon, lat))
536
>>> back = to_wgs84(lon, lat, "GCJ-02")             # exact inverse, not the naive one
>>> round(distance_m(118.93, 32.11, *back), 9)
0.0
>>> [round(v, 6) for v in from_wgs84(118.93, 32.11, "bd09")]
[118.941476, 32.114037]

GCJ-02 and BD-09
----------------
The GCJ-02 forward formula is the widely reproduced one (Krasovsky ellipsoid, a = 6378245 m,
e² = 0.00669342162296594323), applied only inside the usual box around China
(72.004-137.8347 E, 0.8293-55.8271 N, :data:`CHINA_BOUNDS`); outside it GCJ-02 is WGS-84 and every
GCJ-02 conversion is the identity. There is no closed-form inverse: the naive ``2t - f(t)`` used by
most libraries is off by up to a few metres, so :func:`gcj02_to_wgs84` iterates
``p <- p - (f(p) - t)`` until a step is below 1e-12 degrees (about 1e-7 m), which takes about five
steps and gives round trips within about 1e-9 m. (The iteration uses the formula without the box,
so a GCJ-02 point within a few hundred metres of the box edge whose preimage falls outside it does
not round-trip; that only happens at sea or abroad.)

BD-09 uses x_pi = pi * 3000 / 180 (one well-known port used pi itself). The usual closed-form
inverse is not an exact inverse of the forward formula: it evaluates the perturbation terms at the
BD-09 point instead of the GCJ-02 one and is off by up to about 0.2 m, so :func:`bd09_to_gcj02`
starts from it and refines it by the same fixed-point iteration. BD-09 has no China box: Baidu
shifts every point.

The conversion functions take Python numbers (a fast pure-``math`` path returning floats) or
array-likes (vectorised numpy returning float64 arrays of the broadcast shape). Each element is
computed independently, so equal inputs always give equal outputs. Non-finite input is not a
coordinate: validate with :func:`check_coordinates` first; the conversions never raise on it and
return NaN (BD-09) or pass it through (GCJ-02, which treats it as outside China).
"""

from __future__ import annotations

from .checks import check_coordinates, parse_coordinate
from .chinese import (
    CHINA_BOUNDS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from .convert import from_wgs84, input_to_wgs84, point_to_wgs84, to_wgs84, transform_geometry
from .metric import (
    METRIC_EPSG,
    area_m2,
    distance_m,
    from_metric,
    geodesic_m,
    geometry_from_metric,
    geometry_to_metric,
    length_m,
    metric_transformer,
    to_metric,
)
from .names import CRS_NAMES, axis_names, is_geographic, normalize_crs
from .names import _normalize as _normalize

__all__ = [
    "CHINA_BOUNDS",
    "CRS_NAMES",
    "METRIC_EPSG",
    "area_m2",
    "axis_names",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "check_coordinates",
    "distance_m",
    "from_metric",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "geodesic_m",
    "geometry_from_metric",
    "geometry_to_metric",
    "input_to_wgs84",
    "point_to_wgs84",
    "is_geographic",
    "length_m",
    "metric_transformer",
    "normalize_crs",
    "parse_coordinate",
    "to_metric",
    "to_wgs84",
    "transform_geometry",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]
