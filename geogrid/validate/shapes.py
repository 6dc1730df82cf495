"""Shape notices: slivers, and grids much smaller or larger than the usual size of their level."""

from __future__ import annotations

import numpy as np
import shapely

from .layers import _Layer
from .report import _LAYER_NAMES, _m, _m2


class ShapeChecks:
    """Notices on shapes: slivers and grids much smaller or larger than usual."""

    # ------------------------------------------------------------------ shape notices
    def shape_indices(self, layer: _Layer) -> np.ndarray:
        """The polygons whose shapes are checked (every valid one; a partial check narrows it)."""
        return np.flatnonzero(layer.valid)

    def median_area(self, layer: _Layer, areas: np.ndarray) -> float:
        """The area a polygon's size is compared with (the median of those checked)."""
        return float(np.median(areas))

    def check_shapes(self, layer: _Layer) -> None:
        idx = self.shape_indices(layer)
        if not len(idx):
            return
        geoms = layer.metric[idx]
        areas = shapely.area(geoms)
        # sliver: (longest side of the oriented minimum bounding box)² / area, as QGIS does
        box = shapely.get_exterior_ring(shapely.oriented_envelope(geoms))
        p0, p1, p2 = (shapely.get_point(box, k) for k in range(3))
        side = np.fmax(shapely.distance(p0, p1), shapely.distance(p1, p2))
        with np.errstate(divide="ignore", invalid="ignore"):
            thin = np.where(areas > 0, side**2 / areas, np.inf)
        kind = _LAYER_NAMES[layer.name]
        for k in np.flatnonzero(thin > self.thinness):
            i = idx[k]
            self.add(
                "sliver",
                f"{layer.where(i, cap=True)} is a sliver: {_m(side[k])} long for "
                f"{_m2(areas[k])}, thinness {thin[k]:.1f} (limit {self.thinness:g}).",
                layer.name,
                (layer.labels[i],),
                layer.geoms[i],
            )
        median = self.median_area(layer, areas)
        for k in range(len(idx)):
            i, a = idx[k], float(areas[k])
            if a < median / self.size_factor:
                check, rel = "size-small", f"less than 1/{self.size_factor:g} of"
            elif a > median * self.size_factor:
                check, rel = "size-large", f"more than {self.size_factor:g} times"
            else:
                continue
            self.add(
                check,
                f"{layer.where(i, cap=True)} has {_m2(a)}, {rel} the median {kind} "
                f"({_m2(median)}).",
                layer.name,
                (layer.labels[i],),
                layer.geoms[i],
            )
