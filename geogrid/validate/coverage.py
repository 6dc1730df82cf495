"""Coverage checks: the second-level grids tile the territory (no overlap, no gap, nothing
outside the outline) and the coverage validator's flagged edges are explained."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import shapely
from shapely import STRtree

from ..crs import area_m2, geometry_from_metric, geometry_to_metric
from .layers import _NEAR_M, PRECISION_M, _components, _Layer, _pieces, _polygonal, _same, _segments
from .report import _LAYER_NAMES, _cap, _join, _m, _m2, _width_m


class CoverageChecks:
    """The second-level grids tile the territory: overlaps, gaps, the outline, and the
    coverage validator's flagged edges."""

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
