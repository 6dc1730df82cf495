"""The units near a point: a KD-tree on their metric coordinates, only read after building."""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree

from .. import crs as _crs
from .answers import UnitHit


class Units:
    """The unit part of :class:`~geogrid.locate.Locator`."""

    def _build_units(self) -> None:
        units = self.district.units
        self._units = units.drop(columns="geometry").to_dict("records")
        if len(units):
            self._unit_lon = units.geometry.x.to_numpy()
            self._unit_lat = units.geometry.y.to_numpy()
            ux, uy = _crs.to_metric(self._unit_lon, self._unit_lat)
        else:
            self._unit_lon = self._unit_lat = ux = uy = np.empty(0)
        self._unit_xy = np.column_stack([ux, uy])
        self._unit_xy.flags.writeable = False
        # A KD-tree on metric coordinates, built here and only read afterwards: its queries
        # change nothing, so any number of threads may run them at once (libspatialindex's
        # rtree, used before, corrupts its node buffer when two threads query one index).
        self._unit_tree = cKDTree(self._unit_xy) if len(units) else None

    def _unit_hit(self, i: int, d: float) -> UnitHit:
        u = self._units[i]
        return UnitHit(
            u["code"],
            u["name"],
            u["category"],
            u.get("address"),
            u["grid"],
            float(self._unit_lon[i]),
            float(self._unit_lat[i]),
            float(d),
        )

    def nearest_units(self, x, y, k: int = 5, crs: str = "wgs84") -> list[UnitHit]:
        """The ``k`` units nearest to a point, nearest first, with distances in metres."""
        if k <= 0 or not len(self._units):
            return []
        ids, d = self._unit_candidates(x, y, crs, k=k)
        return [self._unit_hit(ids[i], d[i]) for i in np.lexsort((ids, d))[:k]]

    def units_within(self, x, y, radius_m: float, crs: str = "wgs84") -> list[UnitHit]:
        """All units within ``radius_m`` metres of a point, nearest first."""
        ids, d = self._unit_candidates(x, y, crs, radius=radius_m)
        return [self._unit_hit(ids[i], d[i]) for i in np.lexsort((ids, d)) if d[i] <= radius_m]

    def _unit_candidates(self, x, y, crs: str, *, k: int = 0, radius: float = 0.0):
        """Unit indices near a point (the KD-tree in EPSG:4549) and their distances in metres;
        geodesic distances to every unit where the metric CRS does not reach."""
        lon, lat, _ = _crs.point_to_wgs84(x, y, crs)
        qx, qy = _crs.to_metric(lon, lat)
        if not (math.isfinite(qx) and math.isfinite(qy)):
            return np.arange(len(self._units)), _crs.geodesic_m(
                lon, lat, self._unit_lon, self._unit_lat
            )
        if self._unit_tree is None:
            return np.empty(0, dtype=np.intp), np.empty(0)
        if k:
            d, ids = self._unit_tree.query((qx, qy), k=min(k, len(self._units)))
            return np.atleast_1d(ids).astype(np.intp), np.atleast_1d(d)
        ids = np.asarray(self._unit_tree.query_ball_point((qx, qy), radius), dtype=np.intp)
        return ids, np.hypot(self._unit_xy[ids, 0] - qx, self._unit_xy[ids, 1] - qy)
