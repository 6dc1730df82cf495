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

import math
import numbers
import re
from functools import cache, lru_cache

import numpy as np
import pyproj
import shapely

from .errors import CoordinateError, CRSError

#: EPSG code of the metric CRS used for every area and distance.
METRIC_EPSG = 4549


@cache
def metric_transformer() -> pyproj.Transformer:
    """The cached pyproj transformer from WGS-84 lon/lat to EPSG:4549 (x, y order)."""
    return pyproj.Transformer.from_crs(4326, METRIC_EPSG, always_xy=True)


@cache
def _from_metric_transformer() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(METRIC_EPSG, 4326, always_xy=True)


def to_metric(lon, lat):
    """WGS-84 lon/lat (floats or arrays) to EPSG:4549 easting/northing in metres."""
    return metric_transformer().transform(lon, lat)


def from_metric(x, y):
    """EPSG:4549 easting/northing in metres to WGS-84 lon/lat (floats or arrays)."""
    return _from_metric_transformer().transform(x, y)


def _transform_geoms(geoms, fn):
    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, apply)


def geometry_to_metric(geoms):
    """A geometry, or an array of them, from lon/lat to EPSG:4549 metres.

    The same input coordinate always maps to the same output coordinate, so vertices shared by
    neighbouring grids stay shared.
    """
    return _transform_geoms(geoms, to_metric)


def geometry_from_metric(geoms):
    """A geometry, or an array of them, from EPSG:4549 metres back to lon/lat."""
    return _transform_geoms(geoms, from_metric)


def area_m2(geoms):
    """Area in square metres of lon/lat geometries, measured in EPSG:4549.

    >>> from shapely import box
    >>> round(float(area_m2(box(118.93, 32.11, 118.94, 32.12))))
    1046774
    """
    return shapely.area(geometry_to_metric(geoms))


def length_m(geoms):
    """Length in metres of lon/lat geometries, measured in EPSG:4549."""
    return shapely.length(geometry_to_metric(geoms))


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

#: The canonical names of the systems geogrid handles itself; any other CRS is ``'EPSG:NNNN'``.
CRS_NAMES = ("wgs84", "cgcs2000", "gcj02", "bd09")

# Keys are lower-cased with spaces, hyphens and underscores removed. The ``*ll`` spellings are
# Baidu's ``coordtype`` values (bd09ll, gcj02ll, wgs84ll); bd09mc (Baidu Mercator) is not accepted.
_ALIASES = {
    "wgs84": "wgs84",
    "wgs84ll": "wgs84",
    "crs84": "wgs84",
    "ogc:crs84": "wgs84",
    "cgcs2000": "cgcs2000",
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "gcj02ll": "gcj02",
    "bd09": "bd09",
    "bd": "bd09",
    "bd09ll": "bd09",
}
_EPSG_ALIASES = {4326: "wgs84", 4490: "cgcs2000"}
_EPSG_RE = re.compile(r"(?:epsg:{0,2}|urn:ogc:def:crs:epsg:[\d.]*:)?(\d{1,6})")
_ACCEPTED = (
    "accepted: 'wgs84' (or WGS-84, EPSG:4326, 4326), 'cgcs2000' (or EPSG:4490), "
    "'gcj02' (or GCJ-02, gcj), 'bd09' (or BD-09, bd), or an EPSG code such as 'EPSG:4549'"
)


def _describe(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@lru_cache(maxsize=512, typed=True)
def _normalize(name) -> tuple[str | None, str | None]:
    """``(canonical, None)`` or ``(None, error message)``; errors are cached too."""
    if isinstance(name, bool):
        return None, f"unknown CRS {name!r}; {_ACCEPTED}"
    if isinstance(name, numbers.Integral):
        code = int(name)
    elif isinstance(name, str):
        key = re.sub(r"[\s_\-]", "", name.lower())
        if key in _ALIASES:
            return _ALIASES[key], None
        match = _EPSG_RE.fullmatch(key)
        if match is None:
            return None, f"unknown CRS {_describe(name)}; {_ACCEPTED}"
        code = int(match.group(1))
    else:
        return None, f"unknown CRS {_describe(name)}; {_ACCEPTED}"
    if code in _EPSG_ALIASES:
        return _EPSG_ALIASES[code], None
    try:
        crs = pyproj.CRS.from_epsg(code)
    except pyproj.exceptions.CRSError:
        return None, f"unknown CRS {_describe(name)}: EPSG has no code {code}; {_ACCEPTED}"
    if not (crs.is_geographic or crs.is_projected):
        return None, (
            f"CRS {_describe(name)} ({crs.name}) is a {crs.type_name}, not a geographic or "
            f"projected CRS; {_ACCEPTED}"
        )
    return f"EPSG:{code}", None


def normalize_crs(name) -> str:
    """The canonical name of a CRS: ``'wgs84'``, ``'cgcs2000'``, ``'gcj02'``, ``'bd09'`` or
    ``'EPSG:NNNN'``.

    Case, spaces, hyphens and underscores do not matter; EPSG codes may be ints, ``'4549'``,
    ``'EPSG:4549'`` or ``'urn:ogc:def:crs:EPSG::4549'``. Anything else raises
    :class:`~geogrid.errors.CRSError` listing the accepted names. Results are cached.

    >>> [normalize_crs(n) for n in ("WGS-84", 4326, "EPSG:4490", "gcj", "BD-09", "epsg:4549")]
    ['wgs84', 'wgs84', 'cgcs2000', 'gcj02', 'bd09', 'EPSG:4549']
    >>> normalize_crs("mars")
    Traceback (most recent call last):
    ...
    geogrid.errors.CRSError: unknown CRS 'mars'; accepted: 'wgs84' (or WGS-84, EPSG:4326, 4326), 'cgcs2000' (or EPSG:4490), 'gcj02' (or GCJ-02, gcj), 'bd09' (or BD-09, bd), or an EPSG code such as 'EPSG:4549'
    """
    try:
        canonical, error = _normalize(name)
    except TypeError:  # unhashable
        canonical, error = None, f"unknown CRS {_describe(name)}; {_ACCEPTED}"
    if error is not None:
        raise CRSError(error)
    return canonical


@lru_cache(maxsize=256)
def is_geographic(name: str) -> bool:
    """Whether canonical CRS ``name`` is lon/lat (else x/y in metres).

    >>> is_geographic("gcj02"), is_geographic("EPSG:4549")
    (True, False)
    """
    if name in CRS_NAMES:
        return True
    return pyproj.CRS.from_user_input(name).is_geographic


def axis_names(name: str) -> tuple[str, str]:
    """``("lon", "lat")`` for a geographic CRS, ``("x", "y")`` for a projected one."""
    return ("lon", "lat") if is_geographic(name) else ("x", "y")


# --------------------------------------------------------------------------------------------
# GCJ-02 and BD-09 kernels. Each is written once and evaluated either with ``math`` functions on
# floats or with numpy ufuncs on 1-D float64 arrays, so both paths compute the same expression.
# --------------------------------------------------------------------------------------------

#: The box (min lon, min lat, max lon, max lat) inside which GCJ-02 differs from WGS-84.
CHINA_BOUNDS = (72.004, 0.8293, 137.8347, 55.8271)

_GCJ_A = 6378245.0  # Krasovsky 1940 semi-major axis
_GCJ_EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
_PI = math.pi
_K_LAT = 180.0 / (_GCJ_A * (1.0 - _GCJ_EE) * _PI)
_K_LON = 180.0 / (_GCJ_A * _PI)
_X_PI = math.pi * 3000.0 / 180.0  # BD-09; not pi
_BD_DLON = 0.0065
_BD_DLAT = 0.006
_TOL = 1e-12  # degrees; stop iterating when a step is smaller
_MAX_ITER = 30

_NP = {"sin": np.sin, "cos": np.cos, "sqrt": np.sqrt, "atan2": np.arctan2}


def _gcj_delta(lon, lat, sin=math.sin, cos=math.cos, sqrt=math.sqrt, atan2=None):
    """The GCJ-02 offset (dlon, dlat) in degrees at a WGS-84 point, ignoring the China box.

    The published formula (as in eviltransform and coordTransform) with its constants folded;
    it agrees with them to about 1e-17 degrees.
    """
    x = lon - 105.0
    y = lat - 35.0
    xp = x * _PI
    yp = y * _PI
    xy = 0.1 * x * y
    sqrt_abs_x = sqrt(abs(x))
    wave = (sin(6.0 * xp) + sin(2.0 * xp)) * (40.0 / 3.0)
    # offsets in metres of arc
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + xy
        + 0.2 * sqrt_abs_x
        + wave
        + (sin(yp) + 2.0 * sin(yp / 3.0)) * (40.0 / 3.0)
        + (sin(yp / 12.0) + 2.0 * sin(yp / 30.0)) * (320.0 / 3.0)
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + xy
        + 0.1 * sqrt_abs_x
        + wave
        + (sin(xp) + 2.0 * sin(xp / 3.0)) * (40.0 / 3.0)
        + (sin(xp / 12.0) + 2.0 * sin(xp / 30.0)) * 100.0
    )
    # metres to degrees on the Krasovsky ellipsoid (meridian and parallel radii of curvature)
    radlat = lat * (_PI / 180.0)
    sinlat = sin(radlat)
    magic = 1.0 - _GCJ_EE * sinlat * sinlat
    sqrtmagic = sqrt(magic)
    return dlon * sqrtmagic / cos(radlat) * _K_LON, dlat * (magic * sqrtmagic) * _K_LAT


def _gcj_inverse_step(
    plon, plat, tlon, tlat, sin=math.sin, cos=math.cos, sqrt=math.sqrt, atan2=None
):
    # p - (f(p) - t) with f(p) = p + delta(p), written as t - delta(p) to avoid cancellation
    dlon, dlat = _gcj_delta(plon, plat, sin, cos, sqrt)
    return tlon - dlon, tlat - dlat


def _bd_forward(lon, lat, sin=math.sin, cos=math.cos, sqrt=math.sqrt, atan2=math.atan2):
    z = sqrt(lon * lon + lat * lat) + 0.00002 * sin(lat * _X_PI)
    theta = atan2(lat, lon) + 0.000003 * cos(lon * _X_PI)
    return z * cos(theta) + _BD_DLON, z * sin(theta) + _BD_DLAT


def _bd_closed_inverse(lon, lat, sin=math.sin, cos=math.cos, sqrt=math.sqrt, atan2=math.atan2):
    x = lon - _BD_DLON
    y = lat - _BD_DLAT
    z = sqrt(x * x + y * y) - 0.00002 * sin(y * _X_PI)
    theta = atan2(y, x) - 0.000003 * cos(x * _X_PI)
    return z * cos(theta), z * sin(theta)


def _bd_inverse_step(
    plon, plat, tlon, tlat, sin=math.sin, cos=math.cos, sqrt=math.sqrt, atan2=math.atan2
):
    flon, flat = _bd_forward(plon, plat, sin, cos, sqrt, atan2)
    return plon - (flon - tlon), plat - (flat - tlat)


def _iterate_scalar(step, tlon, tlat, plon, plat):
    for _ in range(_MAX_ITER):
        nlon, nlat = step(plon, plat, tlon, tlat)
        if abs(nlon - plon) < _TOL and abs(nlat - plat) < _TOL:
            return nlon, nlat
        plon, plat = nlon, nlat
    return plon, plat


def _iterate_array(step, tlon, tlat, plon, plat):
    """The scalar iteration, run on arrays: each element stops on its own, so its result does not
    depend on the other elements."""
    out_lon, out_lat = plon.copy(), plat.copy()
    active = np.arange(plon.size)
    for _ in range(_MAX_ITER):
        nlon, nlat = step(plon, plat, tlon, tlat, **_NP)
        out_lon[active] = nlon
        out_lat[active] = nlat
        moving = (np.abs(nlon - plon) >= _TOL) | (np.abs(nlat - plat) >= _TOL)
        if not moving.any():
            break
        active = active[moving]
        plon, plat, tlon, tlat = nlon[moving], nlat[moving], tlon[moving], tlat[moving]
    return out_lon, out_lat


def _in_china_array(lon, lat):
    w, s, e, n = CHINA_BOUNDS
    return (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)


def _where(mask, fn, lon, lat):
    """``fn`` applied to the elements where ``mask`` is true, the others passed through."""
    if mask.all():
        return fn(lon, lat)
    out_lon, out_lat = lon.copy(), lat.copy()
    if mask.any():
        out_lon[mask], out_lat[mask] = fn(lon[mask], lat[mask])
    return out_lon, out_lat


# Scalar paths (floats in, floats out) ---------------------------------------------------------


def _wgs84_to_gcj02_f(lon, lat):
    if not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271):
        return lon, lat
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _gcj02_to_wgs84_f(lon, lat, delta=_gcj_delta):
    # _iterate_scalar(_gcj_inverse_step, ...) inlined: this is the per-request path
    if not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271):
        return lon, lat
    plon, plat = lon, lat
    for _ in range(_MAX_ITER):
        dlon, dlat = delta(plon, plat)
        nlon = lon - dlon
        nlat = lat - dlat
        if -1e-12 < nlon - plon < 1e-12 and -1e-12 < nlat - plat < 1e-12:  # _TOL
            return nlon, nlat
        plon, plat = nlon, nlat
    return plon, plat


def _gcj02_to_bd09_f(lon, lat):
    try:
        return _bd_forward(lon, lat)
    except (ValueError, OverflowError):  # sin(inf): non-finite in, NaN out like numpy
        return math.nan, math.nan


def _bd09_to_gcj02_f(lon, lat):
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return math.nan, math.nan
    try:
        plon, plat = _bd_closed_inverse(lon, lat)
        return _iterate_scalar(_bd_inverse_step, lon, lat, plon, plat)
    except (ValueError, OverflowError):  # absurd input overflowing to inf
        return math.nan, math.nan


def _wgs84_to_bd09_f(lon, lat):
    return _gcj02_to_bd09_f(*_wgs84_to_gcj02_f(lon, lat))


def _bd09_to_wgs84_f(lon, lat):
    return _gcj02_to_wgs84_f(*_bd09_to_gcj02_f(lon, lat))


# Array paths (1-D float64 arrays in, new arrays out) ------------------------------------------


def _wgs84_to_gcj02_a(lon, lat):
    def shift(lon, lat):
        dlon, dlat = _gcj_delta(lon, lat, **_NP)
        return lon + dlon, lat + dlat

    return _where(_in_china_array(lon, lat), shift, lon, lat)


def _gcj02_to_wgs84_a(lon, lat):
    def invert(lon, lat):
        return _iterate_array(_gcj_inverse_step, lon, lat, lon, lat)

    return _where(_in_china_array(lon, lat), invert, lon, lat)


def _gcj02_to_bd09_a(lon, lat):
    with np.errstate(invalid="ignore", over="ignore"):  # inf -> nan, as in the scalar path
        return _bd_forward(lon, lat, np.sin, np.cos, np.sqrt, np.arctan2)


def _bd09_to_gcj02_a(lon, lat):
    def invert(lon, lat):
        plon, plat = _bd_closed_inverse(lon, lat, np.sin, np.cos, np.sqrt, np.arctan2)
        return _iterate_array(_bd_inverse_step, lon, lat, plon, plat)

    finite = np.isfinite(lon) & np.isfinite(lat)
    nan = np.full_like(lon, np.nan)
    with np.errstate(invalid="ignore", over="ignore"):  # absurd but finite input
        return _where(finite, invert, np.where(finite, lon, nan), np.where(finite, lat, nan))


def _wgs84_to_bd09_a(lon, lat):
    return _gcj02_to_bd09_a(*_wgs84_to_gcj02_a(lon, lat))


def _bd09_to_wgs84_a(lon, lat):
    return _gcj02_to_wgs84_a(*_bd09_to_gcj02_a(lon, lat))


def _flat_arrays(x, y):
    """``x`` and ``y`` as 1-D float64 arrays of their broadcast size, and that shape."""
    try:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CoordinateError(f"coordinates must be numbers or arrays of numbers: {exc}") from None
    try:
        shape = np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise CoordinateError(
            f"coordinate arrays have different shapes {x.shape} and {y.shape}"
        ) from None
    return np.broadcast_to(x, shape).ravel(), np.broadcast_to(y, shape).ravel(), shape


def _dual(scalar_fn, array_fn, x, y):
    if type(x) is float and type(y) is float:
        return scalar_fn(x, y)
    if isinstance(x, numbers.Real) and isinstance(y, numbers.Real):
        return scalar_fn(float(x), float(y))
    fx, fy, shape = _flat_arrays(x, y)
    rx, ry = array_fn(fx, fy)
    return rx.reshape(shape), ry.reshape(shape)


# --------------------------------------------------------------------------------------------
# Public conversions
# --------------------------------------------------------------------------------------------


def wgs84_to_gcj02(lon, lat):
    """WGS-84 to GCJ-02 (floats, or arrays).

    The identity outside :data:`CHINA_BOUNDS`.

    >>> [round(v, 6) for v in wgs84_to_gcj02(118.93, 32.11)]
    [118.935051, 32.107787]
    >>> wgs84_to_gcj02(2.35, 48.85)                    # Paris: outside China
    (2.35, 48.85)
    >>> lon, lat = wgs84_to_gcj02(np.array([118.93, 2.35]), np.array([32.11, 48.85]))
    >>> lon.round(6).tolist(), lat.round(6).tolist()
    ([118.935051, 2.35], [32.107787, 48.85])
    """
    return _dual(_wgs84_to_gcj02_f, _wgs84_to_gcj02_a, lon, lat)


def gcj02_to_wgs84(lon, lat):
    """GCJ-02 to WGS-84, the exact inverse of :func:`wgs84_to_gcj02` (floats, or arrays).

    Fixed-point iteration ``p <- p - (f(p) - t)`` until a step is below 1e-12 degrees (at most 30
    steps); round trips agree to about 1e-9 m. The identity outside :data:`CHINA_BOUNDS`.

    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(118.93, 32.11))
    >>> abs(lon - 118.93) < 1e-12 and abs(lat - 32.11) < 1e-12
    True
    """
    return _dual(_gcj02_to_wgs84_f, _gcj02_to_wgs84_a, lon, lat)


def gcj02_to_bd09(lon, lat):
    """GCJ-02 to BD-09 (floats, or arrays); applied everywhere, Baidu has no China box.

    >>> [round(v, 6) for v in gcj02_to_bd09(118.935051, 32.107787)]
    [118.941475, 32.114037]
    """
    return _dual(_gcj02_to_bd09_f, _gcj02_to_bd09_a, lon, lat)


def bd09_to_gcj02(lon, lat):
    """BD-09 to GCJ-02, the exact inverse of :func:`gcj02_to_bd09` (floats, or arrays).

    The usual closed form is off by up to about 0.2 m; it is used as the starting point of the
    same fixed-point iteration as :func:`gcj02_to_wgs84`.

    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(118.935, 32.108))
    >>> abs(lon - 118.935) < 1e-12 and abs(lat - 32.108) < 1e-12
    True
    """
    return _dual(_bd09_to_gcj02_f, _bd09_to_gcj02_a, lon, lat)


def wgs84_to_bd09(lon, lat):
    """WGS-84 to BD-09, through GCJ-02 (floats, or arrays).

    >>> [round(v, 6) for v in wgs84_to_bd09(118.93, 32.11)]
    [118.941476, 32.114037]
    """
    return _dual(_wgs84_to_bd09_f, _wgs84_to_bd09_a, lon, lat)


def bd09_to_wgs84(lon, lat):
    """BD-09 to WGS-84 through GCJ-02, both steps exact (floats, or arrays).

    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(118.93, 32.11))
    >>> abs(lon - 118.93) < 1e-12 and abs(lat - 32.11) < 1e-12
    True
    """
    return _dual(_bd09_to_wgs84_f, _bd09_to_wgs84_a, lon, lat)


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


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NON_FINITE_WORDS = {"nan", "inf", "infinity"}


def parse_coordinate(value, name: str = "value") -> float:
    """A coordinate from user input (a string, int or float) as a finite float.

    Raises :class:`~geogrid.errors.CoordinateError` naming ``name`` otherwise. Ranges are not
    checked here: that depends on the CRS, see :func:`check_coordinates`.

    >>> parse_coordinate(" 118.93 ", "lon"), parse_coordinate(32, "lat")
    (118.93, 32.0)
    >>> parse_coordinate("abc", "lon")
    Traceback (most recent call last):
    ...
    geogrid.errors.CoordinateError: lon must be a number, got 'abc'
    >>> parse_coordinate("nan", "lat")
    Traceback (most recent call last):
    ...
    geogrid.errors.CoordinateError: lat must be a finite number, got 'nan'
    """
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER_RE.fullmatch(text):
            number = float(text)
        elif text.lower().lstrip("+-") in _NON_FINITE_WORDS:
            number = math.nan
        else:
            raise CoordinateError(f"{name} must be a number, got {_describe(value)}")
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
    else:
        raise CoordinateError(f"{name} must be a number, got {_describe(value)}")
    if not math.isfinite(number):
        raise CoordinateError(f"{name} must be a finite number, got {_describe(value)}")
    return number


def _index(flat_index: int, shape: tuple) -> int | tuple:
    if len(shape) <= 1:
        return flat_index
    return tuple(int(i) for i in np.unravel_index(flat_index, shape))


def _object_array(value) -> np.ndarray:
    array = np.empty(np.shape(value), dtype=object)
    array[...] = value
    return array


def _check_values(value, name: str, bounds: tuple[float, float] | None):
    """Raise CoordinateError unless ``value`` is a finite number (or array of them) in bounds."""
    if type(value) is float or (isinstance(value, numbers.Real) and not isinstance(value, bool)):
        number = float(value)
        if not math.isfinite(number):
            raise CoordinateError(f"{name} {number!r} is not a finite number")
        if bounds is not None and not bounds[0] <= number <= bounds[1]:
            raise CoordinateError(f"{name} {number!r} is out of range [{bounds[0]}, {bounds[1]}]")
        return ()
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise CoordinateError(f"{name} {_describe(value)} is not a number")
    try:
        array = np.asarray(value)
    except ValueError:  # ragged nested sequences
        raise CoordinateError(f"{name} must be a number or an array of numbers") from None
    if array.dtype.kind in "OUS":  # objects or strings: find the elements that are not numbers
        # from a list, numpy has turned mixed numbers and strings into strings: start again
        array = array.astype(object) if isinstance(value, np.ndarray) else _object_array(value)
        flat = array.ravel()
        bad = [
            i for i, v in enumerate(flat) if not isinstance(v, numbers.Real) or isinstance(v, bool)
        ]
        if bad:
            raise CoordinateError(
                f"{name} has {len(bad)} of {flat.size} values that are not numbers, "
                f"the first at index {_index(bad[0], array.shape)} ({_describe(flat[bad[0]])})"
            )
        array = array.astype(np.float64)
    elif array.dtype.kind not in "iuf":
        raise CoordinateError(f"{name} must be numbers, got an array of {array.dtype}")
    flat = array.ravel()
    if flat.size:  # the common case in two fast passes: min and max (NaN makes both NaN)
        lo, hi = float(flat.min()), float(flat.max())
        finite = math.isfinite(lo) and math.isfinite(hi)
        if finite and (bounds is None or (bounds[0] <= lo and hi <= bounds[1])):
            return array.shape
    bad = ~np.isfinite(flat)
    problem = "that are not finite numbers"
    if not bad.any() and bounds is not None:
        bad = (flat < bounds[0]) | (flat > bounds[1])
        problem = f"out of range [{bounds[0]}, {bounds[1]}]"
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise CoordinateError(
            f"{name} has {int(bad.sum())} of {flat.size} values {problem}, "
            f"the first at index {_index(first, array.shape)} ({float(flat[first])!r})"
        )
    return array.shape


def check_coordinates(x, y, crs="wgs84") -> None:
    """Raise :class:`~geogrid.errors.CoordinateError` unless ``x``, ``y`` are valid in ``crs``.

    Numbers or arrays of numbers must be finite; in a geographic CRS (wgs84, cgcs2000, gcj02,
    bd09, geographic EPSG codes) lon must lie in [-180, 180] and lat in [-90, 90]. Projected
    coordinates are only checked for finiteness. Arrays report how many values are bad and the
    index of the first.

    >>> check_coordinates(118.93, 32.11)
    >>> check_coordinates(118.93, 95.0)
    Traceback (most recent call last):
    ...
    geogrid.errors.CoordinateError: lat 95.0 is out of range [-90, 90]
    >>> check_coordinates([118.93, 118.94], [32.11, float("nan")], "gcj02")
    Traceback (most recent call last):
    ...
    geogrid.errors.CoordinateError: lat has 1 of 2 values that are not finite numbers, the first at index 1 (nan)
    >>> check_coordinates(399011.0, float("inf"), "EPSG:4549")
    Traceback (most recent call last):
    ...
    geogrid.errors.CoordinateError: y inf is not a finite number
    """
    name = normalize_crs(crs)
    xname, yname = axis_names(name)
    geographic = is_geographic(name)
    xshape = _check_values(x, xname, (-180, 180) if geographic else None)
    yshape = _check_values(y, yname, (-90, 90) if geographic else None)
    names = f"{xname} and {yname}"
    try:
        if xshape and yshape:
            np.broadcast_shapes(xshape, yshape)
    except ValueError:
        raise CoordinateError(f"{names} have different shapes {xshape} and {yshape}") from None


# --------------------------------------------------------------------------------------------
# Geometries and distances
# --------------------------------------------------------------------------------------------


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


@cache
def _geod() -> pyproj.Geod:
    return pyproj.Geod(ellps="WGS84")


def geodesic_m(lon, lat, lons, lats):
    """Geodesic distance in metres on the WGS-84 ellipsoid from one point to many: for places
    EPSG:4549 cannot reach (far from China's 120°E zone), where :func:`distance_m` fails.

    >>> round(float(geodesic_m(0.0, 0.0, [1.0], [0.0])[0]))
    111319
    """
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    _, _, d = _geod().inv(
        np.full(lons.shape, float(lon)), np.full(lats.shape, float(lat)), lons, lats
    )
    return np.asarray(d)


def distance_m(lon1, lat1, lon2, lat2):
    """Distance in metres between WGS-84 points, measured in EPSG:4549 (floats, or arrays).

    Accurate near 120 E (scale error about 1e-4 in Xianlin); far from it the projection stretches
    distances, so use it for local distances, not across China.

    >>> round(distance_m(118.93, 32.11, 118.94, 32.11), 1)
    943.9
    >>> distance_m(np.array([118.93, 118.93]), np.array([32.11, 32.11]), 118.93, 32.12).round(1)
    array([1109., 1109.])
    """
    points = (lon1, lat1, lon2, lat2)
    if all(isinstance(v, numbers.Real) for v in points):
        x1, y1 = to_metric(float(lon1), float(lat1))
        x2, y2 = to_metric(float(lon2), float(lat2))
        return math.hypot(x2 - x1, y2 - y1)
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in points))
    shape = arrays[0].shape
    lon1, lat1, lon2, lat2 = (a.ravel() for a in arrays)
    x1, y1 = to_metric(lon1, lat1)
    x2, y2 = to_metric(lon2, lat2)
    return np.hypot(x2 - x1, y2 - y1).reshape(shape)
