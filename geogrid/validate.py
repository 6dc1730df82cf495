"""Validate a district's grids against the rules of grid management.

Every local standard repeats the same four rules for the grids of a sub-district: full coverage,
clear lines, no blank, no crossing or overlap (全面覆盖、界线明确、不留空白、不交叉重叠).
For geogrid's layers this means:

* every geometry is valid, in WGS-84 longitude/latitude, and each grid is a single polygon;
* every grid and unit has its own code, in its layer and across layers;
* the second-level grids tile the territory: no overlap, no gap (not even a narrow one), nothing
  outside the outline, and neighbours share their edges vertex for vertex;
* each second-level grid names an existing first-level parent and lies inside it, and each
  first-level grid is exactly the union of its second-level grids;
* each unit stands in the second-level grid it names (a unit on a shared edge may name either).

Findings that break a rule are *errors* and block an import or a publication; findings that only
deserve a look (slivers, grids much smaller or larger than usual, neighbours whose shared edge has
a vertex on one side only) are *notices*, as in the NG911 validation toolbox. Topology is computed
on the stored lon/lat geometries; every size is measured in metres in EPSG:4549, never in degrees.

>>> from shapely import box
>>> import geopandas as gpd
>>> from geogrid.model import District
>>> cells = [box(118.930, 32.110, 118.935, 32.115), box(118.935, 32.110, 118.940, 32.115)]
>>> g2 = gpd.GeoDataFrame({"code": ["A01", "A02"], "parent": ["A", "A"]}, geometry=cells, crs=4326)
>>> g1 = gpd.GeoDataFrame({"code": ["A"]}, geometry=[box(118.93, 32.11, 118.94, 32.115)], crs=4326)
>>> report = validate(District("X", "demo", g1, g2))
>>> report.ok, report.notices
(True, [])
>>> g2.loc[1, "geometry"] = box(118.934, 32.110, 118.940, 32.115)  # A02 now covers part of A01
>>> report = validate(District("X", "demo", g1, g2))
>>> [(f.check, f.codes) for f in report.errors]
[('overlap', ('A01', 'A02'))]
>>> print(report.errors[0].message)
Second-level grids A01 and A02 overlap by 52,340.1 m² (about 94.39 m wide).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import STRtree

from .crs import area_m2, geometry_from_metric, geometry_to_metric
from .model import District

#: Stored coordinates have 7 decimals (1e-7 degree, about 1 cm here): overlaps, gaps and parts
#: outside a parent narrower than this are rounding of vertices that should lie on a neighbour's
#: edge, not errors; the coverage validator still flags those edges (``unmatched-edge`` notice).
PRECISION_M = 0.01

#: Distance under which a flagged edge counts as lying on an error's geometry or on a neighbour
#: (projecting lon/lat edges to EPSG:4549 bends them by millimetres per 500 m).
_NEAR_M = 0.05

#: Every check, in report order, with its severity.
CHECKS: dict[str, str] = {
    "not-lonlat": "error",
    "invalid-geometry": "error",
    "multipart": "error",
    "duplicate-code": "error",
    "overlap": "error",
    "gap": "error",
    "parent-missing": "error",
    "outside-parent": "error",
    "level1-mismatch": "error",
    "unit-outside": "error",
    "unit-grid-mismatch": "error",
    "sliver": "notice",
    "size-small": "notice",
    "size-large": "notice",
    "unmatched-edge": "notice",
}

_CHECK_ORDER = {check: i for i, check in enumerate(CHECKS)}
_LAYER_NAMES = {
    "outline": "district outline",
    "grids1": "first-level grid",
    "grids2": "second-level grid",
    "units": "unit",
}
_LAYER_ORDER = {layer: i for i, layer in enumerate(_LAYER_NAMES)}
_POLYGONAL = {"Polygon", "MultiPolygon"}


@dataclass(frozen=True)
class Finding:
    """One problem found by :func:`validate`.

    ``geometry`` is the offending part (an overlap, a gap, the part of a grid outside its parent,
    a unit's point...) in WGS-84 lon/lat, or ``None`` when there is nothing to draw.
    """

    severity: str
    check: str
    message: str
    layer: str
    codes: tuple[str, ...] = ()
    geometry: object | None = None

    def to_dict(self) -> dict:
        """A JSON-ready dict; the geometry as a GeoJSON geometry object (or ``None``)."""
        geom = None
        if self.geometry is not None:
            geom = json.loads(shapely.to_geojson(self.geometry))
        return {
            "severity": self.severity,
            "check": self.check,
            "message": self.message,
            "layer": self.layer,
            "codes": list(self.codes),
            "geometry": geom,
        }


@dataclass
class Report:
    """The result of :func:`validate`: errors block, notices inform."""

    errors: list[Finding] = field(default_factory=list)
    notices: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error (notices do not count)."""
        return not self.errors

    def counts(self) -> dict[str, int]:
        """Number of findings per check, in report order."""
        out: dict[str, int] = {}
        for f in sorted(self.errors + self.notices, key=lambda f: _CHECK_ORDER[f.check]):
            out[f.check] = out.get(f.check, 0) + 1
        return out

    def to_dict(self) -> dict:
        """A JSON-ready dict: ``ok``, ``counts`` per check, ``errors`` and ``notices``."""
        return {
            "ok": self.ok,
            "counts": self.counts(),
            "errors": [f.to_dict() for f in self.errors],
            "notices": [f.to_dict() for f in self.notices],
        }

    def to_json(self, indent: int | None = None) -> str:
        """:meth:`to_dict` as JSON text, non-ASCII characters kept as they are."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def summary(self) -> str:
        """One line: OK or FAILED, with the number of errors and notices per check."""

        def part(findings: list[Finding], noun: str) -> str:
            if not findings:
                return f"no {noun}s"
            per = Report(findings).counts()
            detail = ", ".join(f"{check} {n}" for check, n in per.items())
            return f"{len(findings)} {noun}{'s' if len(findings) != 1 else ''} ({detail})"

        status = "OK" if self.ok else "FAILED"
        return f"{status}: {part(self.errors, 'error')}, {part(self.notices, 'notice')}"

    def format_text(self) -> str:
        """The report as readable text: errors then notices, grouped by check, then a summary.

        >>> print(Report().format_text())
        OK: no errors, no notices
        """
        lines: list[str] = []
        for title, findings in (("Errors", self.errors), ("Notices", self.notices)):
            if not findings:
                continue
            lines.append(f"{title} ({len(findings)}):")
            groups: dict[str, list[Finding]] = defaultdict(list)
            for f in findings:
                groups[f.check].append(f)
            for check in sorted(groups, key=_CHECK_ORDER.__getitem__):
                lines.append(f"  {check} ({len(groups[check])})")
                lines.extend(f"    - {f.message}" for f in groups[check])
        lines.append(self.summary())
        return "\n".join(lines)


# ---------------------------------------------------------------------- formatting helpers
def _m2(area: float) -> str:
    return f"{area:,.3f} m²" if area < 10 else f"{area:,.1f} m²"


def _m(length: float) -> str:
    return f"{length:,.2f} m" if length < 100 else f"{length:,.1f} m"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(codes) -> str:
    codes = list(codes)
    if len(codes) <= 1:
        return "".join(codes)
    return ", ".join(codes[:-1]) + " and " + codes[-1]


def _width_m(area, perimeter):
    """Width of the rectangle with this area and perimeter, in metres (exact for a rectangle,
    close for a thin strip; half the height of a thin triangle). Floats or arrays."""
    area, perimeter = np.asarray(area, dtype=float), np.asarray(perimeter, dtype=float)
    root = np.sqrt(np.fmax(perimeter * perimeter - 16 * area, 0.0))
    width = np.where(perimeter > 0, (perimeter - root) / 4, 0.0)
    return float(width) if width.ndim == 0 else width


# ---------------------------------------------------------------------- layer preparation
def _text(value) -> str | None:
    """A code as a string, or ``None`` when missing or blank."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is _NA:
        return None
    text = str(value).strip()
    return text or None


try:  # pandas' missing-value marker, without making pandas a hard requirement of this module
    from pandas import NA as _NA
except ImportError:  # pragma: no cover
    _NA = object()


class _Layer:
    """Codes and geometries of one layer as plain arrays."""

    def __init__(self, name: str, frame):
        self.name = name
        n = len(frame)
        cols = frame.columns
        self.codes = [_text(v) for v in frame["code"]] if "code" in cols else [None] * n
        self.names = [_text(v) for v in frame["name"]] if "name" in cols else [None] * n
        self.labels = [c if c is not None else f"#{i}" for i, c in enumerate(self.codes)]
        self.geoms = (
            np.asarray(frame.geometry.to_numpy(), dtype=object) if n else np.empty(0, object)
        )
        self.crs = frame.crs
        self.n = n
        # filled by the geometry checks
        self.usable = np.full(n, None, dtype=object)  # lon/lat geometry fit for topology
        self.valid = np.zeros(n, dtype=bool)  # usable and valid as given (not repaired)
        self.metric = np.full(n, None, dtype=object)

    def where(self, i: int, cap: bool = False) -> str:
        """How to name feature ``i`` in a message (capitalised to start a sentence)."""
        kind = _cap(_LAYER_NAMES[self.name]) if cap else _LAYER_NAMES[self.name]
        if self.codes[i] is not None:
            return f"{kind} {self.codes[i]}"
        name = f" ({self.names[i]})" if self.names[i] else ""
        return f"{kind} #{i}{name}"

    def by_code(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(self.codes):
            if c is not None:
                out[c].append(i)
        return out


def _repair(geom):
    """The polygonal part of ``shapely.make_valid(geom)`` (``None`` if there is none)."""
    fixed = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(fixed) if p.geom_type in _POLYGONAL and not p.is_empty]
    if not parts:
        return None
    return shapely.union_all(parts)


def _polygonal(geom):
    """The polygonal part of an overlay result, or ``None`` when it has no area."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL]
    return shapely.union_all(parts) if parts else None


def _same(a, b) -> bool:
    """Whether two polygonal geometries have exactly the same rings (a fast sufficient test of
    equality; a first-level grid built as the union of its grids passes it)."""
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=0))


def _pieces(geom):
    """The polygons of a polygonal geometry (an empty array for ``None``)."""
    if geom is None or geom.is_empty:
        return np.empty(0, dtype=object)
    return shapely.get_parts(geom)


# ---------------------------------------------------------------------- the validator
class _Validator:
    def __init__(self, district: District, gap_width_m, sliver_thinness, size_factor, tolerance_m2):
        self.d = district
        self.gap_width = float(gap_width_m)
        self.thinness = float(sliver_thinness)
        self.size_factor = float(size_factor)
        self.tol = float(tolerance_m2)
        # a unit closer than this to a grid stands on its edge (10 cm for the default tolerance)
        self.edge_tol = math.sqrt(self.tol)
        self.errors: list[Finding] = []
        self.notices: list[Finding] = []
        self.g1 = _Layer("grids1", district.grids1)
        self.g2 = _Layer("grids2", district.grids2)
        self.units = _Layer("units", district.units)
        # per layer, lon/lat areas where a grid's shape is unknown (invalid geometry): findings
        # there are consequences of that error and are not reported twice
        self.unknown: dict[str, list] = {"grids1": [], "grids2": []}
        # metric geometries of errors found so far, which explain flagged coverage edges
        self.explained_m: list = []
        # lon/lat gaps found, which explain first-level grids not covered by their children
        self.gaps_ll: list = []

    def add(self, check: str, message: str, layer: str, codes=(), geometry=None) -> None:
        severity = CHECKS[check]
        f = Finding(severity, check, message, layer, tuple(codes), geometry)
        (self.errors if severity == "error" else self.notices).append(f)

    # ------------------------------------------------------------------ driver
    def run(self) -> Report:
        if self.check_lonlat():
            return self.report()
        self.check_geometries(self.g1)
        self.check_geometries(self.g2)
        self.check_unit_geometries()
        self.check_codes()
        self.zones = {k: shapely.union_all(v) if v else None for k, v in self.unknown.items()}
        self.tree2 = STRtree(self.g2.usable)
        self.tree2_m = STRtree(self.g2.metric)
        flagged2, _ = self.coverage_edges(self.g2, self.gap_width)
        self.flagged2 = np.array([f is not None for f in flagged2], dtype=bool)
        self.check_overlaps(self.g2, flagged2)
        flagged1, _ = self.coverage_edges(self.g1, 0.0)
        self.check_overlaps(self.g1, flagged1)
        union = self.union(np.arange(self.g2.n))
        self.check_gaps(union)
        self.classify_edges(flagged2, union)
        self.check_parents()
        self.check_units()
        self.check_shapes(self.g1)
        self.check_shapes(self.g2)
        return self.report()

    def report(self) -> Report:
        def key(f: Finding):
            return (_CHECK_ORDER[f.check], _LAYER_ORDER[f.layer], f.codes, f.message)

        return Report(sorted(self.errors, key=key), sorted(self.notices, key=key))

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
            self.add(
                "multipart",
                f"{layer.where(i, cap=True)} has {len(parts)} separate parts: the largest is "
                f"{_m2(areas[order[0]])}, the others {_m2(areas[order[1:]].sum())} together.",
                layer.name,
                (layer.labels[i],),
                rest,
            )

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

    # ------------------------------------------------------------------ codes
    def check_codes(self) -> None:
        seen: dict[str, list[tuple[_Layer, int]]] = defaultdict(list)
        for layer in (self.g1, self.g2, self.units):
            for i, code in enumerate(layer.codes):
                if code is None:
                    self.add(
                        "duplicate-code",
                        f"{layer.where(i, cap=True)} has no code.",
                        layer.name,
                        (layer.labels[i],),
                        layer.geoms[i],
                    )
                else:
                    seen[code].append((layer, i))
        for code, uses in seen.items():
            if len(uses) < 2:
                continue
            layers = []
            for layer, _ in uses:
                if layer not in layers:
                    layers.append(layer)
            kinds = ", ".join(
                f"{sum(lay is layer for lay, _ in uses)} {_LAYER_NAMES[layer.name]}s"
                for layer in layers
            )
            where = "across layers" if len(layers) > 1 else "within its layer"
            geoms = [lay.geoms[i] for lay, i in uses if lay.geoms[i] is not None]
            self.add(
                "duplicate-code",
                f"Code {code} is used {len(uses)} times {where} ({kinds}).",
                layers[-1].name,
                (code,),
                shapely.geometrycollections(geoms) if geoms else None,
            )

    # ------------------------------------------------------------------ coverage
    def coverage_edges(self, layer: _Layer, gap_width: float):
        """Edges flagged by GEOS' coverage validator (in metres), and whether there are none."""
        if not layer.n:
            return np.empty(0, dtype=object), True
        edges = shapely.coverage_invalid_edges(layer.metric, gap_width=gap_width)
        has = np.array([e is not None and not e.is_empty for e in edges])
        return np.where(has, edges, None), not has.any()

    def union(self, idx) -> shapely.Geometry:
        """Union of the usable second-level grids ``idx``: the fast coverage union for those
        whose edges all match, a full overlay only for the few the coverage check flagged."""
        idx = np.asarray(idx, dtype=int)
        idx = idx[self.g2.usable[idx] != None]  # noqa: E711
        if not len(idx):
            return shapely.Polygon()
        bad = self.flagged2[idx]
        union = shapely.coverage_union_all(self.g2.usable[idx[~bad]])
        if bad.any():
            union = shapely.union_all([union, *self.g2.usable[idx[bad]]])
        return union

    def check_overlaps(self, layer: _Layer, flagged) -> None:
        """Grids of one level overlapping each other by more than the tolerance."""
        has = np.array([f is not None for f in flagged], dtype=bool)
        if not has.any():
            return  # a valid coverage has no overlap
        tree = self.tree2 if layer is self.g2 else STRtree(layer.usable)
        i, j = tree.query(layer.usable, predicate="intersects")
        keep = (i < j) & (has[i] | has[j])
        i, j = i[keep], j[keep]
        if not len(i):
            return
        inter = shapely.intersection(layer.usable[i], layer.usable[j])
        some = shapely.area(inter) > 0
        for a, b, geom in zip(i[some], j[some], inter[some], strict=True):
            pieces, metric = self.significant(_pieces(_polygonal(geom)))
            if not len(pieces):
                continue
            self.explained_m.extend(metric)
            part = shapely.union_all(pieces)
            area = float(shapely.area(metric).sum())
            width = _width_m(area, float(shapely.length(metric).sum()))
            kind = _cap(_LAYER_NAMES[layer.name]) + "s"
            self.add(
                "overlap",
                f"{kind} {_join(sorted([layer.labels[a], layer.labels[b]]))} overlap by "
                f"{_m2(area)} (about {_m(width)} wide).",
                layer.name,
                tuple(sorted([layer.labels[a], layer.labels[b]])),
                part,
            )

    def significant(self, pieces):
        """The lon/lat pieces larger than the tolerance and wider than :data:`PRECISION_M`,
        with their metric shapes."""
        if not len(pieces):
            return pieces, pieces
        metric = geometry_to_metric(pieces)
        areas = shapely.area(metric)
        keep = (areas > self.tol) & (_width_m(areas, shapely.length(metric)) >= PRECISION_M)
        return pieces[keep], metric[keep]

    def neighbours(self, piece_m, touching: bool = True) -> list[str]:
        """Codes of the second-level grids sharing more than a point of boundary with a metric
        piece (touching=True), or overlapping it (touching=False)."""
        idx = self.tree2_m.query(piece_m, predicate="dwithin", distance=1e-3)
        grids = self.g2.metric[idx]
        if touching:
            near = shapely.intersection(shapely.boundary(grids), shapely.buffer(piece_m, 1e-3))
            idx = idx[shapely.length(near) > 0.01]
        else:
            idx = idx[shapely.area(shapely.intersection(grids, piece_m)) > self.tol]
        return sorted({self.g2.labels[k] for k in idx})

    def in_unknown_zone(self, pieces, layers=("grids2",)) -> np.ndarray:
        """Which lon/lat pieces (or points) lie, but for the tolerance, where the shape of an
        invalid grid of one of these layers is unknown."""
        zones = [self.zones[k] for k in layers if self.zones[k] is not None]
        if not zones or not len(pieces):
            return np.zeros(len(pieces), dtype=bool)
        zone = shapely.union_all(zones)
        if not np.isin(shapely.get_type_id(pieces), (3, 6)).all():  # points
            return shapely.covered_by(pieces, zone)
        return area_m2(shapely.difference(pieces, zone)) <= self.tol

    def check_gaps(self, union) -> None:
        """Holes in the coverage, territory not covered, grids sticking out of the outline."""
        outline = self.d.outline
        if outline is not None and _same(outline, union):
            return
        if outline is not None:
            gaps = _pieces(_polygonal(shapely.difference(outline, union)))
            out = _pieces(_polygonal(shapely.difference(union, outline)))
        elif not shapely.get_num_interior_rings(_pieces(union)).any():
            return
        else:
            # holes: the union with its holes filled, minus the union (islands in holes stay out)
            shells = shapely.polygons(shapely.get_exterior_ring(_pieces(union)))
            filled = shapely.union_all(shells) if len(shells) else union
            gaps = _pieces(_polygonal(shapely.difference(filled, union)))
            out = np.empty(0, dtype=object)
        for pieces, inside in ((gaps, True), (out, False)):
            if not len(pieces):
                continue
            pieces, metric = self.significant(pieces)
            areas = shapely.area(metric)
            self.explained_m.extend(metric)
            if inside:
                self.gaps_ll.extend(pieces)
            hidden = self.in_unknown_zone(pieces) if inside else np.zeros(len(pieces), bool)
            for piece, m, area in zip(
                pieces[~hidden], metric[~hidden], areas[~hidden], strict=True
            ):
                width = _width_m(float(area), float(shapely.length(m)))
                if inside:
                    codes = self.neighbours(m)
                    by = f" next to second-level grids {_join(codes)}" if codes else ""
                    msg = f"Gap of {_m2(area)} (about {_m(width)} wide){by}: no second-level grid covers it."
                else:
                    codes = self.neighbours(m, touching=False)
                    msg = (
                        f"Second-level grids {_join(codes)} stick out of the district outline by "
                        f"{_m2(area)} (about {_m(width)} wide)."
                    )
                self.add("gap", msg, "grids2", codes, piece)

    def classify_edges(self, flagged, union) -> None:
        """Read the coverage validator's flagged edges: gaps narrower than the gap width, or
        edges whose vertices do not match (notice); edges next to known errors are explained."""
        has = np.array([f is not None for f in flagged], dtype=bool)
        if not has.any():
            return
        segs, owner = _segments(flagged[has], np.flatnonzero(has))
        eps = _NEAR_M
        segs, owner = self.unexplained(segs, owner, eps)
        if not len(segs):
            return
        # gaps narrower than gap_width: what a morphological closing of the coverage adds
        union_m = geometry_to_metric(union)
        half = self.gap_width / 2
        closed = shapely.buffer(
            shapely.buffer(union_m, half, join_style="mitre"), -half, join_style="mitre"
        )
        narrow = _pieces(_polygonal(shapely.difference(closed, union_m)))
        if len(narrow):
            areas = shapely.area(narrow)
            wide = _width_m(areas, shapely.length(narrow)) >= PRECISION_M
            narrow = narrow[(areas > self.tol) & wide]
        if len(narrow):
            known = shapely.union_all(self.explained_m) if self.explained_m else None
            self.explained_m.extend(narrow)
            if self.d.outline is None:
                # without an outline, a narrow inlet is as much a gap as a narrow hole
                new = narrow
                if known is not None:  # holes found already are not reported twice
                    new = narrow[shapely.area(shapely.difference(narrow, known)) > self.tol]
                pieces = geometry_from_metric(new) if len(new) else new
                hidden = self.in_unknown_zone(pieces)
                self.gaps_ll.extend(pieces)
                for piece, m in zip(pieces[~hidden], new[~hidden], strict=True):
                    area = float(shapely.area(m))
                    width = _width_m(area, float(shapely.length(m)))
                    codes = self.neighbours(m)
                    self.add(
                        "gap",
                        f"Narrow gap or inlet of {_m2(area)} (about {_m(width)} wide, under the gap "
                        f"width of {_m(self.gap_width)}) between second-level grids {_join(codes)}.",
                        "grids2",
                        codes,
                        piece,
                    )
            segs, owner = self.unexplained(segs, owner, eps)
        if not len(segs):
            return
        # what is left: shared edges whose vertices differ (T-junctions) and the like. The grid
        # on the other side is the one next to the segment's middle; a segment that only ends on
        # a neighbour's edge (beside a T-junction) goes with the grids it touches.
        other: dict[int, set] = defaultdict(set)
        mids = shapely.line_interpolate_point(segs, 0.5, normalized=True)
        for probe in (mids, segs):
            lonely = np.flatnonzero([not other[si] for si in range(len(segs))])
            if not len(lonely):
                break
            si, gi = self.tree2_m.query(probe[lonely], predicate="dwithin", distance=eps)
            si = lonely[si]
            keep = gi != owner[si]
            si, gi = si[keep], gi[keep]
            dist = shapely.distance(probe[si], self.g2.metric[gi])
            best = defaultdict(lambda: math.inf)
            for a, dd in zip(si, dist, strict=True):
                best[a] = min(best[a], dd)
            for a, b, dd in zip(si, gi, dist, strict=True):
                if dd <= best[a] + 1e-6:  # the nearest grid(s) only
                    other[a].add(b)
        # one notice per connected run of flagged segments, naming every grid along it
        lengths = shapely.length(segs)
        for members in _components(segs, eps):
            codes = tuple(
                sorted({self.g2.labels[k] for si in members for k in {owner[si], *other[si]}})
            )
            merged = shapely.line_merge(shapely.union_all(segs[members]))
            # both sides of an edge are flagged: count the longer side once
            per_side = defaultdict(float)
            for si in members:
                per_side[owner[si]] += lengths[si]
            length = max(per_side.values())
            if len(codes) > 1:
                msg = (
                    f"Second-level grids {_join(codes)} do not share the same vertices on their "
                    f"common edge: {_m(length)} of edge flagged (a T-junction or mismatched "
                    "vertices)."
                )
            else:
                msg = (
                    f"Second-level grid {codes[0]} has {_m(length)} of edges that the coverage "
                    "check rejects without an overlap or gap nearby."
                )
            self.add("unmatched-edge", msg, "grids2", codes, geometry_from_metric(merged))

    def unexplained(self, segs, owner, eps):
        if not self.explained_m or not len(segs):
            return segs, owner
        known = shapely.union_all(self.explained_m)
        shapely.prepare(known)
        keep = ~shapely.dwithin(segs, known, eps)
        return segs[keep], owner[keep]

    # ------------------------------------------------------------------ parents
    def check_parents(self) -> None:
        g1, g2 = self.g1, self.g2
        parents = g1.by_code()
        child_parent = np.full(g2.n, -1)
        if "parent" in self.d.grids2.columns:
            parent_codes = [_text(v) for v in self.d.grids2["parent"]]
        else:
            parent_codes = [None] * g2.n
        orphans = []  # second-level grids whose parent is unknown
        for i, p in enumerate(parent_codes):
            if p is None or p not in parents:
                if g2.usable[i] is not None:
                    orphans.append(g2.usable[i])
                what = (
                    "has no parent code"
                    if p is None
                    else f"names parent {p}, which is not a first-level grid"
                )
                self.add(
                    "parent-missing",
                    f"{g2.where(i, cap=True)} {what}.",
                    "grids2",
                    (g2.labels[i],) + ((p,) if p else ()),
                    g2.geoms[i],
                )
            else:
                child_parent[i] = parents[p][0]
        # parts of second-level grids outside their parent
        tree1 = STRtree(g1.usable)
        outside_parts = []  # lon/lat parts lying outside their parent
        ok = (child_parent >= 0) & (g2.usable != None)  # noqa: E711
        ok[ok] &= g1.usable[child_parent[ok]] != None  # noqa: E711
        kids = np.flatnonzero(ok)
        if len(kids):
            par = g1.usable[child_parent[kids]]
            shapely.prepare(par)
            inside = shapely.covers(par, g2.usable[kids])
            kids, par = kids[~inside], par[~inside]
            diffs = shapely.difference(g2.usable[kids], par) if len(kids) else []
            for k, diff in zip(kids, diffs, strict=True):
                pieces, metric = self.significant(_pieces(_polygonal(diff)))
                if not len(pieces):
                    continue
                part = shapely.union_all(pieces)
                area = float(shapely.area(metric).sum())
                outside_parts.append(part)
                if self.in_unknown_zone(np.array([part]), ("grids1", "grids2"))[0]:
                    continue
                idx = tree1.query(part, predicate="intersects")
                idx = idx[shapely.area(shapely.intersection(g1.usable[idx], part)) > 0]
                lies = sorted({g1.labels[x] for x in idx})
                where = f"in first-level grid {_join(lies)}" if lies else "in no first-level grid"
                p = g1.labels[child_parent[k]]
                self.add(
                    "outside-parent",
                    f"{_m2(area)} of {g2.where(k)} lies outside its first-level grid {p} ({where}).",
                    "grids2",
                    (g2.labels[k], p, *lies),
                    part,
                )
        # first-level grids not covered by their second-level grids
        # ... except where a second-level grid lies that names another or an unknown parent
        # ... or a gap already reported
        known = outside_parts + orphans + self.gaps_ll
        explained = shapely.union_all(known) if known else None
        children = defaultdict(list)
        for k in np.flatnonzero(child_parent >= 0):
            if g2.usable[k] is not None:
                children[child_parent[k]].append(k)
        for i in range(g1.n):
            if g1.usable[i] is None or not g1.valid[i]:
                continue  # reported as invalid-geometry already
            if not children.get(i):
                self.add(
                    "level1-mismatch",
                    f"{g1.where(i, cap=True)} has no second-level grids "
                    f"({_m2(float(area_m2(g1.usable[i])))} uncovered).",
                    "grids1",
                    (g1.labels[i],),
                    g1.usable[i],
                )
                continue
            kids_union = self.union(children[i])
            if _same(g1.usable[i], kids_union):
                continue
            missing = shapely.difference(g1.usable[i], kids_union)
            if explained is not None:
                missing = shapely.difference(missing, explained)
            missing = _polygonal(missing)
            if missing is None:
                continue
            pieces, metric = self.significant(_pieces(missing))
            hidden = self.in_unknown_zone(pieces)
            pieces, metric = pieces[~hidden], metric[~hidden]
            if not len(pieces):
                continue
            area = float(shapely.area(metric).sum())
            self.add(
                "level1-mismatch",
                f"{g1.where(i, cap=True)} is not the union of its {len(children[i])} second-level "
                f"grids: {_m2(area)} of it is in none of them.",
                "grids1",
                (g1.labels[i],),
                shapely.union_all(pieces),
            )

    # ------------------------------------------------------------------ units
    def check_units(self) -> None:
        u, g2 = self.units, self.g2
        ok = np.flatnonzero(u.valid)
        if not len(ok):
            return
        named = (
            [_text(v) for v in self.d.units["grid"]]
            if "grid" in self.d.units.columns
            else [None] * u.n
        )
        grid_codes = np.array([c if c is not None else "" for c in g2.codes], dtype=object)
        p, g = self.tree2.query(u.usable[ok], predicate="intersects")  # covered, edges included
        p = ok[p]
        stands: dict[int, set[int]] = defaultdict(set)
        for pi, gi in zip(p, g, strict=True):
            stands[pi].add(gi)
        # points just outside every grid (rounding): take the grids within the edge tolerance
        lost = np.array([i for i in ok if i not in stands], dtype=int)
        if len(lost):
            (lp, lg), dist = self.tree2_m.query_nearest(u.metric[lost], return_distance=True)
            for pi, gi, dd in zip(lp, lg, dist, strict=True):
                if dd <= self.edge_tol:
                    stands[lost[pi]].add(gi)
            nearest = {lost[pi]: (gi, dd) for pi, gi, dd in zip(lp, lg, dist, strict=True)}
            hidden = self.in_unknown_zone(u.usable[lost])
            for k, i in enumerate(lost):
                if i in stands or hidden[k]:
                    continue
                near = ""
                if i in nearest:
                    gi, dd = nearest[i]
                    near = f" (nearest is {g2.labels[gi]}, {_m(dd)} away)"
                self.add(
                    "unit-outside",
                    f"{u.where(i, cap=True)} stands in no second-level grid{near}.",
                    "units",
                    (u.labels[i],) + ((named[i],) if named[i] else ()),
                    u.geoms[i],
                )
        by_code = g2.by_code()
        for i in ok:
            name = named[i]
            here = stands.get(i)
            if (
                name is not None
                and name in by_code
                and (here is None or any(grid_codes[k] == name for k in here))
            ):
                continue
            if name is None:
                self.add(
                    "unit-grid-mismatch",
                    f"{u.where(i, cap=True)} names no second-level grid.",
                    "units",
                    (u.labels[i],) + tuple(sorted(g2.labels[k] for k in here or ())),
                    u.geoms[i],
                )
                continue
            if name not in by_code:
                self.add(
                    "unit-grid-mismatch",
                    f"{u.where(i, cap=True)} names grid {name}, which is not a second-level grid.",
                    "units",
                    (u.labels[i], name),
                    u.geoms[i],
                )
                continue
            # named grid exists but the unit stands elsewhere: allow the edge tolerance
            named_m = g2.metric[by_code[name]]
            named_m = named_m[named_m != None]  # noqa: E711
            dist = float(shapely.distance(named_m, u.metric[i]).min()) if len(named_m) else math.inf
            if dist <= self.edge_tol:
                continue
            actual = sorted(g2.labels[k] for k in here)
            self.add(
                "unit-grid-mismatch",
                f"{u.where(i, cap=True)} names grid {name} but stands in {_join(actual)}, "
                f"{_m(dist)} from {name}.",
                "units",
                (u.labels[i], name, *actual),
                u.geoms[i],
            )

    # ------------------------------------------------------------------ shape notices
    def check_shapes(self, layer: _Layer) -> None:
        idx = np.flatnonzero(layer.valid)
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
        median = float(np.median(areas))
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


def _components(lines, eps: float) -> list[np.ndarray]:
    """Groups of lines connected to each other (closer than ``eps``), as arrays of indices."""
    parent = list(range(len(lines)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in zip(*STRtree(lines).query(lines, predicate="dwithin", distance=eps), strict=True):
        parent[find(a)] = find(b)
    groups: dict[int, list[int]] = defaultdict(list)
    for a in range(len(lines)):
        groups[find(a)].append(a)
    return [np.array(g) for g in groups.values()]


def _segments(lines, owners):
    """Split flagged edge lines into 2-point segments, each with the index of its grid."""
    parts, pidx = shapely.get_parts(lines, return_index=True)
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    same = cidx[1:] == cidx[:-1]
    pairs = np.stack([coords[:-1][same], coords[1:][same]], axis=1)
    segs = shapely.linestrings(pairs) if len(pairs) else np.empty(0, dtype=object)
    return segs, owners[pidx[cidx[:-1][same]]]


def validate(
    district: District,
    *,
    gap_width_m: float = 1.0,
    sliver_thinness: float = 20.0,
    size_factor: float = 8.0,
    tolerance_m2: float = 0.01,
) -> Report:
    """Check a district against the grid rules and return a :class:`Report`.

    Errors: ``not-lonlat`` (reported alone: nothing else is checked), ``invalid-geometry``,
    ``multipart``, ``duplicate-code`` (also missing codes), ``overlap`` (at either level),
    ``gap`` (holes, territory outside every grid, grids outside the outline, and gaps or inlets
    narrower than ``gap_width_m`` found by GEOS' coverage validator run in EPSG:4549),
    ``parent-missing``, ``outside-parent``, ``level1-mismatch``, ``unit-outside`` and
    ``unit-grid-mismatch``.

    Notices: ``sliver`` when thinness, as QGIS measures it (the longest side of the oriented
    minimum bounding box, squared, divided by the area), exceeds ``sliver_thinness``;
    ``size-small`` / ``size-large`` when a grid's area is below the median of its level divided by
    ``size_factor`` or above the median times ``size_factor``; ``unmatched-edge`` when the coverage
    validator rejects edges that no overlap or gap explains (a vertex on one side of a shared edge
    only: a T-junction).

    Overlaps, gaps and parts outside a parent smaller than ``tolerance_m2``, or narrower than
    :data:`PRECISION_M` (1 cm, what 7 stored decimals of a degree resolve), are not errors: the
    latter are vertices meant to lie on a neighbour's edge and show up as ``unmatched-edge``. A unit
    within ``sqrt(tolerance_m2)`` metres (10 cm) of a grid stands on its edge, so it may name
    either grid on that edge. An invalid grid is checked with its repaired shape (``make_valid``);
    gaps, uncovered parents and stray units inside its convex hull are left to its own error.

    Overlaps, unions and differences are computed on the lon/lat geometries as stored (straight
    edges in lon/lat, as RFC 7946 has them) and measured in EPSG:4549; GEOS' coverage validator
    runs on the EPSG:4549 geometries so that ``gap_width_m`` is in metres. The fast path (a valid
    coverage, first-level grids built as unions) takes about 0.1 s for 156 grids of ~170
    vertices and 1786 units.
    """
    return _Validator(district, gap_width_m, sliver_thinness, size_factor, tolerance_m2).run()
