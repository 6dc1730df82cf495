"""Geometry for display: lighter grids that still tile exactly, in the map's coordinate system.

Maps do not need every 12 m vertex. :func:`simplify_coverage` thins a tiling with GEOS's coverage
simplification, which keeps shared edges shared (no gaps or overlaps appear on screen);
tolerances are metres, measured in EPSG:4549. :func:`for_display` also converts to the map's
system: GCJ-02 for AMap tiles.

>>> from geogrid.model import District, default_data_dir
>>> g = District.load(default_data_dir()).grids2.geometry.values
>>> light = simplify_coverage(g, 2.0)
>>> int(shapely.get_num_coordinates(g).sum()) > 2 * int(shapely.get_num_coordinates(light).sum())
True
>>> bool(shapely.coverage_is_valid(light))
True
"""

from __future__ import annotations

import numpy as np
import shapely

from . import crs as _crs


def simplify_coverage(geoms, tolerance_m: float):
    """Simplify lon/lat polygons that tile the plane, keeping shared edges identical."""
    geoms = np.asarray(geoms, dtype=object)
    if tolerance_m <= 0 or not len(geoms):
        return geoms
    metric = _crs.geometry_to_metric(geoms)
    return _crs.geometry_from_metric(shapely.coverage_simplify(metric, tolerance_m))


def for_display(geoms, crs: str = "wgs84", tolerance_m: float = 0.0, decimals: int = 6):
    """Geometries as a map should draw them: simplified (coverage-aware), converted from WGS-84
    to ``crs`` and rounded (6 decimals ≈ 0.1 m)."""
    out = _crs.transform_geometry(simplify_coverage(geoms, tolerance_m), "wgs84", crs)
    return shapely.transform(out, lambda c: np.round(c, decimals))


def nested_layers(district, crs: str = "wgs84", tolerance_m: float = 0.0, decimals: int = 6):
    """Display geometry of a district's three levels that nest exactly on screen: the
    second-level grids through :func:`for_display`, the first-level grids and the outline as
    unions of them. Returns ``(outline, grids1, grids2)``, the grids in their frames' order.

    >>> from geogrid.model import District, default_data_dir
    >>> outline, g1, g2 = nested_layers(District.load(default_data_dir()), "gcj02", 2.0)
    >>> len(g1), len(g2), bool(shapely.equals(outline, shapely.coverage_union_all(g1)))
    (10, 156, True)
    """
    g2 = for_display(district.grids2.geometry.values, crs, tolerance_m, decimals)
    parents = district.grids2["parent"].to_numpy(dtype=object)
    g1 = np.array(
        [
            shapely.coverage_union_all(g2[parents == code])
            if (parents == code).any()
            else shapely.Polygon()
            for code in district.grids1["code"]
        ],
        dtype=object,
    )
    return shapely.coverage_union_all(g2), g1, g2
