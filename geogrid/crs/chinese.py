"""GCJ-02 and BD-09, the Chinese web-map systems: the forward formulas and their exact inverses.

Each kernel is written once and evaluated either with ``math`` functions on floats or with numpy
ufuncs on 1-D float64 arrays, so both paths compute the same expression."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..errors import CoordinateError

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
