"""Geometry checks: coordinates in lon/lat, valid single-polygon grids, unit geometries."""

from __future__ import annotations

import numpy as np
import shapely

from ..crs import area_m2, geometry_to_metric
from .layers import _POLYGONAL, _Layer, _repair
from .report import _LAYER_NAMES, _join, _m2


# ---------------------------------------------------------------------- the validator
class GeometryChecks:
    """Coordinates in lon/lat, valid single-polygon grids, unit geometries."""

    # ------------------------------------------------------------------ coordinates
    def check_lonlat(self) -> bool:
        """Coordinates outside lon/lat ranges: one finding, and stop."""
        layers = [
            ("outline", np.array([self.d.outline], dtype=object), None),
            ("grids1", self.g1.geoms, self.g1.crs),
            ("grids2", self.g2.geoms, self.g2.crs),
            ("units", self.units.geoms, self.units.crs),
        ]
        bad = []
        for name, geoms, crs in layers:
            xy = shapely.get_coordinates(geoms)
            finite = xy[np.isfinite(xy).all(axis=1)]
            outside = (np.abs(finite[:, 0]) > 180) | (np.abs(finite[:, 1]) > 90)
            projected = crs is not None and not crs.is_geographic
            if outside.any() or projected:
                bad.append((name, finite, outside, crs if projected else None))
        if not bad:
            return False
        name, xy, outside, crs = bad[0]
        names = _join([_LAYER_NAMES[b[0]] + ("s" if b[0] != "outline" else "") for b in bad])
        if crs is not None:
            detail = f"the layer's CRS is {crs.to_string()}, a projected CRS."
        else:
            x, y = xy[outside, 0], xy[outside, 1]
            detail = (
                f"{int(outside.sum())} coordinates of the {_LAYER_NAMES[name]}s lie outside "
                f"lon -180..180 / lat -90..90 (x {x.min():.6g} to {x.max():.6g}, "
                f"y {y.min():.6g} to {y.max():.6g}). "
            )
            if (np.abs(xy[:, 0]) <= 90).all() and (np.abs(xy[:, 1]) <= 180).all():
                detail += "Latitude and longitude look swapped."
            else:
                detail += "Projected data loaded without its CRS?"
        self.add(
            "not-lonlat",
            f"Coordinates of the {names} are not WGS-84 longitude/latitude: {detail} "
            "No other check was run.",
            name,
        )
        return True

    # ------------------------------------------------------------------ geometry
    def check_geometries(self, layer: _Layer) -> None:
        """Empty, non-polygonal, invalid and multi-part grids; fills usable/valid/metric."""
        geoms = layer.geoms
        if not layer.n:
            return
        missing = np.array([g is None for g in geoms])
        types = np.array([g.geom_type if g is not None else "" for g in geoms])
        empty = missing | shapely.is_empty(geoms)
        polygonal = np.isin(types, list(_POLYGONAL)) & ~empty
        reasons = np.full(layer.n, "", dtype=object)
        reasons[polygonal] = shapely.is_valid_reason(geoms[polygonal])
        valid = polygonal & (reasons == "Valid Geometry")
        layer.valid = valid
        layer.usable[valid] = geoms[valid]
        for i in np.flatnonzero(~valid):
            where = layer.where(i, cap=True)
            if missing[i] or empty[i]:
                msg = f"{where} has no geometry."
                self.add("invalid-geometry", msg, layer.name, (layer.labels[i],))
                continue
            if not polygonal[i]:
                msg = f"{where} is a {types[i]}, not a polygon."
                self.add("invalid-geometry", msg, layer.name, (layer.labels[i],), geoms[i])
                continue
            fixed = _repair(geoms[i])
            layer.usable[i] = fixed
            self.unknown[layer.name].append(shapely.convex_hull(geoms[i]))
            self.add(
                "invalid-geometry",
                f"{where} is not a valid polygon: {reasons[i]}. Checks near it use "
                "its repaired shape; gaps inside its outline are not reported until it is fixed.",
                layer.name,
                (layer.labels[i],),
                geoms[i],
            )
        usable = layer.usable != None  # noqa: E711
        layer.metric[usable] = geometry_to_metric(layer.usable[usable])
        # multi-part grids (only those valid as given)
        nparts = shapely.get_num_geometries(geoms[valid])
        for i in np.flatnonzero(valid)[nparts > 1]:
            parts = shapely.get_parts(geoms[i])
            areas = area_m2(parts)
            order = np.argsort(-areas)
            rest = shapely.union_all(parts[order[1:]])
            message = (
                f"{layer.where(i, cap=True)} has {len(parts)} separate parts: the largest is "
                f"{_m2(areas[order[0]])}, the others {_m2(areas[order[1:]].sum())} together."
            )
            if self.allow_exclaves:
                message += " An exclave: allowed, check it."
            severity = "notice" if self.allow_exclaves else "error"
            self.add("multipart", message, layer.name, (layer.labels[i],), rest, severity)

    def check_unit_geometries(self) -> None:
        u = self.units
        if not u.n:
            return
        geoms = u.geoms
        missing = np.array([g is None for g in geoms])
        types = np.array([g.geom_type if g is not None else "" for g in geoms])
        point = (types == "Point") & ~missing
        point[point] &= ~shapely.is_empty(geoms[point])
        reasons = np.full(u.n, "", dtype=object)
        reasons[point] = shapely.is_valid_reason(geoms[point])
        ok = point & (reasons == "Valid Geometry")
        u.valid = ok
        u.usable[ok] = geoms[ok]
        for i in np.flatnonzero(~ok):
            if missing[i] or (types[i] == "Point" and not point[i]) or shapely.is_empty(geoms[i]):
                msg = f"{u.where(i, cap=True)} has no location."
                geom = None
            elif types[i] != "Point":
                msg = f"{u.where(i, cap=True)} is a {types[i]}, not a point."
                geom = geoms[i]
            else:
                msg = f"{u.where(i, cap=True)} has an invalid location: {reasons[i]}."
                geom = None
            self.add("invalid-geometry", msg, "units", (u.labels[i],), geom)
        u.metric[ok] = geometry_to_metric(geoms[ok])
