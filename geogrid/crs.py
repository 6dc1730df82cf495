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
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyproj
import shapely

#: EPSG code of the metric CRS used for every area and distance.
METRIC_EPSG = 4549


@cache
def _to_metric_transformer() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(4326, METRIC_EPSG, always_xy=True)


@cache
def _from_metric_transformer() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(METRIC_EPSG, 4326, always_xy=True)


def to_metric(lon, lat):
    """WGS-84 lon/lat (floats or arrays) to EPSG:4549 easting/northing in metres."""
    return _to_metric_transformer().transform(lon, lat)


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
