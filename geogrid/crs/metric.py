"""The metric CRS (EPSG:4549) every area and distance is measured in: the cached pyproj
transformers, geometries to and from metres, areas, lengths and distances."""

from __future__ import annotations

import math
import numbers
from functools import cache

import numpy as np
import pyproj
import shapely

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
