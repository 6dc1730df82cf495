"""Nesting checks: each second-level grid inside its first-level parent, each first-level grid
the union of its children, each unit inside the grid it names."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import shapely
from shapely import STRtree

from ..crs import area_m2
from .layers import _pieces, _polygonal, _same, _text
from .report import _join, _m, _m2


class NestingChecks:
    """Second-level grids inside their first-level parent, first-level grids the union of
    their children, units inside the grid they name."""

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
