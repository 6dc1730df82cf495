"""The locator: which grid owns a place, who handles it, and how sure the answer is.

A dispatcher gets a location (a click, coordinates in WGS-84, CGCS2000, GCJ-02 or BD-09) and must
see at once the second-level grid that owns it, its first-level grid, the people responsible and
whether the point is so close to a boundary that someone should confirm.

>>> loc = Locator(District.load(default_data_dir()))
>>> a = loc.locate(118.93, 32.11)
>>> a.match, a.grid2.code, a.grid1.name
('interior', '320113005007007', '东阳社区')
>>> from geogrid.crs import from_wgs84
>>> b = loc.locate(*from_wgs84(118.93, 32.11, "gcj02"), crs="gcj02")   # the same place
>>> b.grid2.code
'320113005007007'

The edge rule
-------------
Every point of the district belongs to exactly one second-level grid. A point exactly on an edge
shared by two grids, or on a vertex shared by several, belongs to **the grid with the smallest
code** among them; ``match`` then says ``"edge"`` or ``"vertex"`` and ``candidates`` lists the
others at distance 0. A point on the district's outer boundary belongs to the grid whose edge it
is. Ownership is decided on the stored WGS-84 coordinates with exact predicates, so it agrees with
shapely's ``covers``; distances are measured in metres in EPSG:4549.

How it is fast
--------------
The district's bounding box is cut into a table of about 1024 × 1024 cells. A cell that no grid
edge touches is labelled at build time with its owner (or "outside"), so most lookups are one
array read. A cell that an edge crosses is tested exactly, with a ray cast along the row to the
next labelled cell and exact orientation tests: vectorised in NumPy for many points
(:meth:`Locator.locate_many`, tens of millions of points a second; the few points within rounding
of an edge go the single-point way), in pure Python for one (:meth:`Locator.locate`, a few
microseconds). Distances come from lists, per coarse cell, of the edges that can be nearest or
within the confirmation distance, scanned nearest first.

Grids that overlap over whole table cells, or along whole edges, have no single owner there: the
locator refuses them (:class:`~geogrid.errors.DataError`, naming two of them). Slivers narrower
than a cell, such as the rounding overlaps validation lets through, are answered by the edge rule.
"""

from __future__ import annotations

import copy
import math
import os
import threading
from array import array
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.strtree import STRtree

from . import crs as _crs
from .errors import DataError
from .model import District, default_data_dir

#: Default distance (metres) from a boundary within which a dispatcher is asked to confirm.
NEAR_M = 30.0
#: Default number of table cells along the longer side of the district's bounding box.
RESOLUTION = 1024
#: Table cells per side of a distance (proximity) cell.
PROX_FACTOR = 3
#: Distance cells per side of a block, the unit in which distance lists are built on demand.
PROX_BLOCK = 32
#: Boundary segments per chain, the unit of the distance lists.
CHAIN = 8
#: Points in edge-crossed cells located together by :meth:`Locator.locate_many`.
MIXED_CHUNK = 4096
#: Cells within this fraction of a cell of a segment count as touched (covers rounding of u, v).
_TOUCH_EPS = 1e-7

MATCH_INTERIOR, MATCH_EDGE, MATCH_VERTEX, MATCH_OUTSIDE = "interior", "edge", "vertex", "outside"


# ----------------------------------------------------------------------------- exact predicate
_ERRBOUND = (3.0 + 16.0 * 2.0**-53) * 2.0**-53


def orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> int:
    """Exact sign of the turn a → b → c: 1 if c is left of a→b, -1 if right, 0 if collinear.

    A floating-point filter (Shewchuk's orient2d bound) decides almost every case; the rest are
    computed exactly with fractions.

    >>> orient(0, 0, 1, 0, 0.5, 1e-300), orient(0, 0, 1, 0, 0.5, 0.0), orient(0, 0, 1, 1, 1, 0)
    (1, 0, -1)
    >>> (0 - 0.3) * (1 - 0.1) - (0 - 0.1) * (3 - 0.3)   # plain floating point: "collinear"
    0.0
    >>> orient(0, 0, 3, 1, 0.3, 0.1)   # but (0.3, 0.1) as doubles lies just left of the line
    1
    """
    detleft = (ax - cx) * (by - cy)
    detright = (ay - cy) * (bx - cx)
    det = detleft - detright
    bound = _ERRBOUND * (abs(detleft) + abs(detright))
    if det > bound:
        return 1
    if -det > bound:
        return -1
    fcx, fcy = Fraction(cx), Fraction(cy)
    exact = (Fraction(ax) - fcx) * (Fraction(by) - fcy) - (Fraction(ay) - fcy) * (
        Fraction(bx) - fcx
    )
    return (exact > 0) - (exact < 0)


# ----------------------------------------------------------------------------- answers
@dataclass(frozen=True, slots=True)
class Grid:
    """A grid and the people responsible for it, as the locator reports it."""

    level: int
    code: str
    name: str
    parent: str | None
    people: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "level": self.level,
            "code": self.code,
            "name": self.name,
            "parent": self.parent,
            **self.people,
        }


@dataclass(slots=True)
class Candidate:
    """A neighbouring second-level grid within the confirmation distance, or the nearest one."""

    grid: Grid
    distance_m: float

    def to_dict(self) -> dict:
        return {
            "code": self.grid.code,
            "name": self.grid.name,
            "parent": self.grid.parent,
            "distance_m": round(self.distance_m, 2),
        }


@dataclass(slots=True)
class Location:
    """The locator's full answer for one point.

    ``distance_m`` is the distance to the nearest grid boundary for a point inside the district
    (0 on an edge), and the distance to the nearest grid for a point outside. ``candidates`` are
    the other second-level grids within the confirmation distance, nearest first;
    ``needs_confirmation`` is set when the point lies within that distance of any boundary.
    """

    lon: float
    lat: float
    match: str
    grid2: Grid | None
    grid1: Grid | None
    distance_m: float
    candidates: tuple[Candidate, ...]
    needs_confirmation: bool
    nearest: Candidate | None = None
    input: tuple[float, float, str] | None = None

    def to_dict(self) -> dict:
        out = {
            "lon": self.lon,
            "lat": self.lat,
            "match": self.match,
            "grid2": self.grid2.to_dict() if self.grid2 else None,
            "grid1": self.grid1.to_dict() if self.grid1 else None,
            "distance_m": round(self.distance_m, 2),
            "needs_confirmation": self.needs_confirmation,
            "candidates": [c.to_dict() for c in self.candidates],
            "nearest": self.nearest.to_dict() if self.nearest else None,
        }
        if self.input is not None:
            out["input"] = {"x": self.input[0], "y": self.input[1], "crs": self.input[2]}
        return out


@dataclass(frozen=True)
class Located:
    """Owners of many points (:meth:`Locator.locate_many`); ``index`` is -1 outside the district."""

    index: np.ndarray
    locator: Locator

    @property
    def grid2_codes(self) -> np.ndarray:
        """Second-level grid code per point (None outside)."""
        return self.locator._codes2[self.index]

    @property
    def grid1_codes(self) -> np.ndarray:
        """First-level grid code per point (None outside)."""
        return self.locator._codes1[self.index]

    def __len__(self) -> int:
        return len(self.index)


@dataclass(frozen=True, slots=True)
class UnitHit:
    """A unit found near a point, with its distance in metres."""

    code: str
    name: str
    category: str
    address: str | None
    grid: str
    lon: float
    lat: float
    distance_m: float

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "category": self.category,
            "address": self.address,
            "grid": self.grid,
            "lon": self.lon,
            "lat": self.lat,
            "distance_m": round(self.distance_m, 2),
        }


# ----------------------------------------------------------------------------- the locator
class Locator:
    """Point location over a district's second-level grids (which must form a valid coverage).

    Build it once per boundary version; it is immutable and safe to share between threads.
    """

    def __init__(self, district: District, *, near_m: float = NEAR_M, resolution: int = RESOLUTION):
        self.district = district
        self.near_m = float(near_m)
        g2 = district.grids2
        order = np.argsort(g2["code"].to_numpy(dtype=str), kind="stable")  # the edge rule: by code
        # not prepared: GEOS prepared geometries build their indexes lazily and are not safe to
        # share between threads (libgeos/geos#825); the locator never needs them after building
        self._polys = np.asarray(g2.geometry.values, dtype=object)[order]
        self._order = order
        self._set_grids(district)
        self._codes2 = np.array([g.code for g in self._grids] + [None], dtype=object)
        self._codes1 = np.array([g.parent for g in self._grids] + [None], dtype=object)
        self._build_segments()
        self._build_table(resolution)
        self._build_units()
        self._prox = None
        self._build_lock = threading.Lock()
        self._to_metric = _crs.metric_transformer().transform

    def _set_grids(self, district: District) -> None:
        """The grids as answers carry them, with their people, from ``district``'s attributes."""
        self._grids1 = {}
        for rec in district.grids1.drop(columns="geometry").to_dict("records"):
            people = {
                k: rec.get(k)
                for k in ("leader", "leader_title", "leader_phone", "office", "office_phone")
            }
            self._grids1[rec["code"]] = Grid(1, rec["code"], rec["name"], rec.get("parent"), people)
        recs = district.grids2.drop(columns="geometry").to_dict("records")
        self._grids = [
            Grid(
                2,
                r["code"],
                r["name"],
                r.get("parent"),
                {k: r.get(k) for k in ("kind", "worker", "worker_phone")},
            )
            for r in (recs[i] for i in self._order)
        ]
        self._parents = [self._grids1.get(g.parent) for g in self._grids]

    def with_people(self, district: District) -> Locator:
        """A locator sharing this one's geometry structures but answering with the people of
        ``district`` (the same boundary version, with another day's duty roster)."""
        if list(district.grids2["code"]) != list(self.district.grids2["code"]):
            raise ValueError("with_people needs the same grids")
        other = copy.copy(self)
        other.district = district
        other._set_grids(district)
        return other

    def prepare(self, *, lists: bool = True, stop: threading.Event | None = None) -> Locator:
        """Build the distance structures now: their shared part always, and with ``lists`` every
        block's lists too (otherwise each block is built by the first single-point call that
        needs it, in a few milliseconds). Safe to call from another thread while serving; that
        thread can be told to leave the rest for later with ``stop``."""
        with self._build_lock:
            if self._prox is None:
                self._build_prox()
        p = self._prox
        if not lists:
            return self
        for k in range(len(self._rays)):
            if k % 1024 == 0 and stop is not None and stop.is_set():
                return self
            self._ray(k)
        todo = [b for b, built in enumerate(p.blocks) if built is None]
        for k in range(0, len(todo), 8):  # in chunks, skipping blocks requests built meanwhile
            if stop is not None and stop.is_set():
                return self
            chunk = [b for b in todo[k : k + 8] if p.blocks[b] is None]
            if chunk:
                self._prox_blocks(chunk)
        return self

    # ------------------------------------------------------------------ building
    def _build_segments(self) -> None:
        """Unique boundary segments, each with the one or two grids it bounds."""
        polys = shapely.orient_polygons(self._polys, exterior_cw=False)
        rings = [(i, ring) for i, p in enumerate(polys) for ring in (p.exterior, *p.interiors)]
        a, b, owner, ring_id = [], [], [], []
        for r, (i, ring) in enumerate(rings):
            c = np.asarray(ring.coords)
            a.append(c[:-1])
            b.append(c[1:])
            owner.append(np.full(len(c) - 1, i))
            ring_id.append(np.full(len(c) - 1, r))
        a, b = np.concatenate(a), np.concatenate(b)
        owner, ring_id = np.concatenate(owner), np.concatenate(ring_id)
        keep = (a != b).any(axis=1)
        a, b, owner, ring_id = a[keep], b[keep], owner[keep], ring_id[keep]
        # canonical key: endpoints in lexicographic order
        swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
        lo, hi = np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)
        keys = np.ascontiguousarray(np.column_stack([lo, hi]))
        _, first, inverse = np.unique(
            keys.view([("", float)] * 4), return_index=True, return_inverse=True
        )
        inverse = inverse.ravel()
        n = len(first)
        p0 = owner[first]
        p1 = np.full(n, -1)
        second = np.flatnonzero(owner != p0[inverse])
        p1[inverse[second]] = owner[second]
        # in a coverage an edge bounds at most two grids, one on each side, whose rings run along
        # it in opposite directions; more, or two in one direction, is an overlap
        times = np.bincount(inverse, minlength=n)
        turns = np.bincount(inverse, weights=np.where(swap, 1.0, -1.0), minlength=n)
        bad = np.flatnonzero((times > 2) | ((times == 2) & (turns != 0)))
        if len(bad):
            g = bad[0]
            x, y = (keys[first[g], :2] + keys[first[g], 2:]) / 2
            raise self._overlap(np.unique(owner[inverse == g]), x, y)
        # in ring order, directed as in p0's counter-clockwise ring (p0's interior on the left)
        order = np.argsort(first, kind="stable")
        first, p0, p1 = first[order], p0[order], p1[order]
        self._sa, self._sb = a[first], b[first]
        self._p0, self._p1 = p0, p1
        # chains: runs of up to CHAIN consecutive segments of one ring bounding the same grids
        pos = np.arange(len(first))
        brk = np.ones(len(first), dtype=bool)
        brk[1:] = (
            (first[1:] != first[:-1] + 1)
            | (ring_id[first[1:]] != ring_id[first[:-1]])
            | (p1[1:] != p1[:-1])
        )
        run_start = np.maximum.accumulate(np.where(brk, pos, 0))
        brk |= (pos - run_start) % CHAIN == 0
        self._chain_start = np.append(np.flatnonzero(brk), len(first))

    def _build_table(self, resolution: int) -> None:
        sa, sb = self._sa, self._sb
        minx = min(sa[:, 0].min(), sb[:, 0].min())
        maxx = max(sa[:, 0].max(), sb[:, 0].max())
        miny = min(sa[:, 1].min(), sb[:, 1].min())
        maxy = max(sa[:, 1].max(), sb[:, 1].max())
        # square cells on the ground: a degree of longitude is cos(lat) of a degree of latitude
        kx = math.cos(math.radians((miny + maxy) / 2))
        span = max((maxx - minx) * kx, maxy - miny)
        dy = span / (resolution - 4)
        dx = dy / kx
        nx = int(math.ceil((maxx - minx) / dx)) + 4
        ny = int(math.ceil((maxy - miny) / dy)) + 4
        self._x0, self._y0 = minx - 2 * dx, miny - 2 * dy
        self._dx, self._dy, self._nx, self._ny = dx, dy, nx, ny
        self._idx, self._idy = 1.0 / dx, 1.0 / dy

        ua, va = (sa[:, 0] - self._x0) * self._idx, (sa[:, 1] - self._y0) * self._idy
        ub, vb = (sb[:, 0] - self._x0) * self._idx, (sb[:, 1] - self._y0) * self._idy
        nseg = len(ua)
        cells, segs = [], []

        def mark(col_f, row, seg):
            for c in (np.floor(col_f - _TOUCH_EPS), np.floor(col_f + _TOUCH_EPS)):
                cells.append(row.astype(np.int64) * nx + c.astype(np.int64))
                segs.append(seg)

        # cells holding an endpoint
        for u, v in ((ua, va), (ub, vb)):
            for r in (np.floor(v - _TOUCH_EPS), np.floor(v + _TOUCH_EPS)):
                mark(u, r, np.arange(nseg))
        # crossings with horizontal grid lines v = k (mark the cells above and below) and with
        # vertical grid lines u = k (the cells left and right)
        for (p1, q1, p2, q2), transpose in (((ua, va, ub, vb), False), ((va, ua, vb, ub), True)):
            lo, hi = np.minimum(q1, q2), np.maximum(q1, q2)
            k0 = np.ceil(lo)
            count = np.where(q1 != q2, np.floor(hi) - k0 + 1, 0).astype(np.int64)
            count = np.maximum(count, 0)
            seg = np.repeat(np.arange(nseg), count)
            k = np.repeat(k0, count) + (
                np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
            )
            t = (k - q1[seg]) / (q2[seg] - q1[seg])
            cross = p1[seg] + t * (p2[seg] - p1[seg])
            for line_side in (k - 1, k):
                if transpose:  # vertical line u = k: cross is a v value
                    for r in (np.floor(cross - _TOUCH_EPS), np.floor(cross + _TOUCH_EPS)):
                        cells.append(r.astype(np.int64) * nx + line_side.astype(np.int64))
                        segs.append(seg)
                else:
                    mark(cross, line_side, seg)
        pairs = np.unique(np.concatenate(cells) * nseg + np.concatenate(segs))
        pair_cell, pair_seg = pairs // nseg, pairs % nseg
        mixed_cells, cell_start = np.unique(pair_cell, return_index=True)

        # labels of untouched cells: scanline over the row centres
        diff = np.zeros((ny, nx + 1), dtype=np.int64)
        up = vb > va
        lo, hi = np.minimum(va, vb), np.maximum(va, vb)
        j0 = np.ceil(lo - 0.5)
        count = np.maximum(np.ceil(hi - 0.5) - j0, 0).astype(np.int64)
        seg = np.repeat(np.arange(nseg), count)
        j = (
            np.repeat(j0, count)
            + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
        ).astype(np.int64)
        t = (j + 0.5 - va[seg]) / (vb[seg] - va[seg])
        ucross = ua[seg] + t * (ub[seg] - ua[seg])
        col = np.clip(np.floor(ucross - 0.5).astype(np.int64) + 1, 0, nx)
        # crossing an upward edge of p0's ccw ring eastwards leaves p0 (and enters p1)
        sign = np.where(up[seg], -1, 1)
        val = sign * (self._p0[seg] + 1) - sign * np.where(self._p1[seg] >= 0, self._p1[seg] + 1, 0)
        np.add.at(diff, (j, col), val)
        label = np.cumsum(diff[:, :nx], axis=1) - 1
        # the same count of the grids holding each centre: more than one is an overlap
        holders = np.zeros((ny, nx + 1), dtype=np.int16)
        np.add.at(holders, (j, col), (sign * np.where(self._p1[seg] >= 0, 0, 1)).astype(np.int16))
        holders = np.cumsum(holders[:, :nx], axis=1, dtype=np.int16)

        table = label.astype(np.int32).ravel()
        overlap = holders.ravel() > 1
        overlap[mixed_cells] = False  # a mixed cell's centre can lie on an edge: not counted
        if overlap.any():
            row, col = divmod(int(np.flatnonzero(overlap)[0]), nx)
            x, y = self._x0 + (col + 0.5) * dx, self._y0 + (row + 0.5) * dy
            raise self._overlap(np.flatnonzero(shapely.intersects_xy(self._polys, x, y)), x, y)
        nmixed = len(mixed_cells)
        table[mixed_cells] = -2 - np.arange(nmixed, dtype=np.int32)
        self._table = table.reshape(ny, nx)
        self._flat = table

        self._mixed_cells = mixed_cells
        # per mixed cell, the segments touching it: pair_seg[cell_ptr[k] : cell_ptr[k + 1]]
        self._build_rays(np.append(cell_start, len(pair_seg)), pair_seg)

    def _overlap(self, grids, x: float, y: float) -> DataError:
        """The error for grids that overlap (data never validated): no single owner there.
        Overlaps narrower than a table cell and not along whole edges, such as rounding slivers,
        are answered by the edge rule instead."""
        return DataError(
            f"second-level grids {' and '.join(self._grids[i].code for i in grids)} overlap "
            f"near {x:.6f}, {y:.6f}: a place must have one owner; `geogrid validate` shows where"
        )

    def _build_rays(self, ptr: np.ndarray, cell_seg: np.ndarray) -> None:
        """Per mixed cell, what a ray cast needs (see :meth:`_owner_exact` and
        :meth:`_owners_of_mixed`): the distinct segments of its run (CSR: ``_run_ptr``,
        ``_run_seg``), the x where its ray ends and the owner there, and the cell's own
        segments (given as ``ptr``, ``cell_seg``)."""
        nx = self._nx
        mixed = np.zeros(self._nx * self._ny, dtype=bool)
        mixed[self._mixed_cells] = True
        grid = mixed.reshape(self._ny, nx)
        cols = np.where(grid, nx, np.arange(nx)[None, :])
        next_pure = np.minimum.accumulate(cols[:, ::-1], axis=1)[:, ::-1]  # first pure col >= i
        rows, colsm = np.divmod(self._mixed_cells, nx)
        end = next_pure[rows, colsm]
        # segments as tuples: lower endpoint first (for the crossing test), with their grids
        lower = (self._sa[:, 1] < self._sb[:, 1]) | (
            (self._sa[:, 1] == self._sb[:, 1]) & (self._sa[:, 0] <= self._sb[:, 0])
        )
        a = np.where(lower[:, None], self._sa, self._sb)
        b = np.where(lower[:, None], self._sb, self._sa)
        segs = [
            (ax, ay, bx, by, p0, p1)
            for ax, ay, bx, by, p0, p1 in zip(
                a[:, 0].tolist(),
                a[:, 1].tolist(),
                b[:, 0].tolist(),
                b[:, 1].tolist(),
                self._p0.tolist(),
                self._p1.tolist(),
                strict=True,
            )
        ]
        self._ray_segs = segs
        k = np.arange(len(self._mixed_cells))
        stop = k + (end - colsm)
        count = ptr[stop] - ptr[k]
        rep = np.repeat(k, count)
        pos = np.repeat(ptr[k] - np.cumsum(count) + count, count) + np.arange(count.sum())
        keys = np.unique(rep * len(a) + cell_seg[pos])
        self._run_seg = keys % len(a)
        self._run_ptr = np.searchsorted(keys // len(a), np.arange(len(k) + 1))
        self._ray_x = self._x0 + end * self._dx
        self._ray_label = self._flat[rows * nx + end]
        self._seg_lo, self._seg_hi = a, b
        self._ray_ptr = ptr.tolist()
        self._ray_cellseg = cell_seg.tolist()
        self._rays = [None] * len(k)  # made on first use (:meth:`_ray`)

    def _ray(self, k: int):
        """What a ray cast from mixed cell ``k`` needs, as Python tuples: the segments touching
        the cell, those touching any cell up to the next untouched one in the row, where that
        cell begins and its label."""
        ray = self._rays[k]
        if ray is None:
            ptr, segs = self._ray_ptr, self._ray_segs
            run = self._run_seg[self._run_ptr[k] : self._run_ptr[k + 1]].tolist()
            ray = self._rays[k] = (
                tuple(segs[s] for s in self._ray_cellseg[ptr[k] : ptr[k + 1]]),
                tuple(segs[s] for s in run),
                float(self._ray_x[k]),
                int(self._ray_label[k]),
            )
        return ray

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

    def _build_prox(self) -> None:
        """What every distance cell's list is made from: cell centres, a bound on their distance
        to the boundary, the chains of segments and a tree over them. The lists themselves are
        built per block of cells, when first needed (:meth:`_prox_block`) or all at once
        (:meth:`prepare`)."""
        f = PROX_FACTOR
        pnx, pny = -(-self._nx // f), -(-self._ny // f)
        pdx, pdy = self._dx * f, self._dy * f
        i, j = np.meshgrid(np.arange(pnx), np.arange(pny))
        clon = self._x0 + (i.ravel() + 0.5) * pdx
        clat = self._y0 + (j.ravel() + 0.5) * pdy
        cx, cy = _crs.to_metric(clon, clat)
        # cell sides and half-diagonal in metres: they vary by parts per million over a district,
        # so measure them on a sample of cells (border rows and columns included), with 1% margin
        n = pnx * pny
        sample = np.unique(
            np.concatenate(
                [
                    np.arange(0, n, 7),
                    np.arange(pnx),
                    np.arange(n - pnx, n),
                    np.arange(0, n, pnx),
                    np.arange(pnx - 1, n, pnx),
                ]
            )
        )
        corners = [
            np.column_stack(
                _crs.to_metric(clon[sample] + sx * pdx / 2, clat[sample] + sy * pdy / 2)
            )
            for sx, sy in ((-1, -1), (-1, 1), (1, -1))
        ]
        mid = np.column_stack([cx[sample], cy[sample]])
        half = float(max(np.hypot(*(c - mid).T).max() for c in corners)) * 1.01 + 1e-6
        ax, ay = _crs.to_metric(self._sa[:, 0], self._sa[:, 1])
        bx, by = _crs.to_metric(self._sb[:, 0], self._sb[:, 1])
        start = self._chain_start
        nchain = len(start) - 1
        seg_chain = np.repeat(np.arange(nchain), np.diff(start))
        # chain polylines: every segment's start point, then the chain's last end point
        pts = np.concatenate([np.column_stack([ax, ay]), np.column_stack([bx, by])[start[1:] - 1]])
        idx = np.concatenate([seg_chain, np.arange(nchain)])
        order = np.argsort(idx, kind="stable")
        chains = shapely.linestrings(pts[order], indices=idx[order])
        # An upper bound on each centre's distance to the boundary: cells holding a boundary
        # point are within `half` of it; the others are bounded by a chamfer distance to those
        # cells (the length of a real path, so never too short).
        bound = np.zeros(pnx * pny, dtype=bool)
        rows, cols = np.divmod(self._mixed_cells, self._nx)
        bound[(rows // f) * pnx + cols // f] = True
        wx = float(np.hypot(*(corners[2] - corners[0]).T).max()) * 1.01
        wy = float(np.hypot(*(corners[1] - corners[0]).T).max()) * 1.01
        upper = _chamfer(bound.reshape(pny, pnx), wx, wy).ravel() + half
        dx, dy = bx - ax, by - ay
        inv = 1.0 / (dx * dx + dy * dy)
        segs = list(
            zip(ax.tolist(), ay.tolist(), dx.tolist(), dy.tolist(), inv.tolist(), strict=True)
        )
        bounds = shapely.bounds(chains).tolist()
        chain_list = [
            (
                *bounds[c],
                tuple(segs[start[c] : start[c + 1]]),
                int(self._p0[start[c]]),
                int(self._p1[start[c]]),
            )
            for c in range(nchain)
        ]
        outer = np.flatnonzero(self._p1 < 0)
        self._outer = (ax[outer], ay[outer], dx[outer], dy[outer], inv[outer], self._p0[outer])
        nbx, nby = -(-pnx // PROX_BLOCK), -(-pny // PROX_BLOCK)
        self._prox = _Prox(
            pnx, pny, nbx, half, cx, cy, cx.tolist(), cy.tolist(), upper,
            chains, _built(STRtree(chains)), chain_list, [None] * (nbx * nby),
        )  # fmt: skip

    def _prox_blocks(self, blocks) -> None:
        """Build the distance lists of the cells of ``blocks`` (block indices), in one pass.

        Per cell: the chains whose distance from the centre is at most the nearest chain's plus
        the cell's diagonal (one of them holds the nearest boundary point of any point of the
        cell), or at most ``near_m`` plus half the diagonal (all within ``near_m`` of any point
        of the cell); sorted by that distance."""
        p = self._prox
        B = PROX_BLOCK
        blocks = np.asarray(sorted(blocks), dtype=np.intp)
        bj, bi = np.divmod(blocks, p.nbx)
        # the cells of each block, in block-local order (row by row)
        lj, li = np.divmod(np.arange(B * B), B)
        cj = (bj[:, None] * B + lj[None, :]).ravel()
        cix = (bi[:, None] * B + li[None, :]).ravel()
        owner = np.repeat(np.arange(len(blocks)), B * B)
        local = np.tile(np.arange(B * B), len(blocks))
        inside = (cj < p.pny) & (cix < p.pnx)
        cells = cj[inside] * p.pnx + cix[inside]
        owner, local = owner[inside], local[inside]
        centres = shapely.points(p.cx[cells], p.cy[cells])
        reach = np.maximum(p.upper[cells] + 2 * p.half, self.near_m + p.half)
        qi, ch = p.tree.query(centres, predicate="dwithin", distance=reach)
        ds = shapely.distance(centres[qi], p.chains[ch])
        order = np.lexsort((ds, qi))
        qi, ch, ds = qi[order], ch[order], ds[order]
        first = np.searchsorted(qi, qi)  # each cell's nearest chain comes first
        keep = ds <= np.maximum(ds[first] + 2 * p.half, self.near_m + p.half) + 1e-6
        qi, ch, ds = qi[keep], ch[keep], ds[keep]
        # split per block: CSR over the block-local cell ids
        for k, b in enumerate(blocks.tolist()):
            mine = np.flatnonzero(owner == k)
            lo, hi = np.searchsorted(qi, [mine[0], mine[-1] + 1]) if len(mine) else (0, 0)
            counts = np.zeros(B * B, dtype=np.intp)
            np.add.at(counts, local[qi[lo:hi]], 1)
            ptr = np.concatenate([[0], np.cumsum(counts)])
            p.blocks[b] = (
                array("l", ptr.tolist()),
                array("l", ch[lo:hi].tolist()),
                array("d", ds[lo:hi].tolist()),
            )

    def _prox_block(self, b: int):
        """The lists of block ``b``, built on first use (a few milliseconds). No lock: two
        threads may build the same block at once, with identical results; a request never
        waits for the background filling of the other blocks."""
        self._prox_blocks([b])
        return self._prox.blocks[b]

    # ------------------------------------------------------------------ single point
    def locate(self, x, y, crs: str = "wgs84") -> Location:
        """The full answer for one point given in any accepted CRS.

        Raises :class:`~geogrid.errors.CoordinateError` for non-numeric or out-of-range input and
        :class:`~geogrid.errors.CRSError` for an unknown CRS.
        """
        if (
            crs == "wgs84"
            and type(x) is float
            and type(y) is float
            and -180.0 <= x <= 180.0
            and -90.0 <= y <= 90.0
        ):
            lon, lat, given = x, y, None  # the hot path: plain WGS-84 floats in range
        else:
            crs = _crs.normalize_crs(crs)
            x, y = _crs.parse_coordinate(x, "x"), _crs.parse_coordinate(y, "y")
            lon, lat = _crs.input_to_wgs84(x, y, crs)
            given = (x, y, crs)
        u = (lon - self._x0) * self._idx
        v = (lat - self._y0) * self._idy
        match, touching = MATCH_INTERIOR, ()
        if 0.0 <= u < self._nx and 0.0 <= v < self._ny:
            owner = self._table.item(int(v), int(u))
            if owner < -1:
                owner, match, touching = self._owner_exact(-2 - owner, lon, lat)
        else:
            owner = -1
        dist, nearest_grid, near = self._distances(lon, lat, u, v)
        for p in touching:  # grids whose edge the point is on: exactly 0 m away
            near[p] = 0.0
        grids = self._grids
        if near:
            near.pop(owner, None)
            cands = tuple(
                Candidate(grids[p], d) for d, p in sorted((d, p) for p, d in near.items())
            )
        else:
            cands = ()
        if owner < 0:
            # outside: the distance to, and the identity of, the nearest grid
            if nearest_grid < 0:
                nearest_grid, dist = self._nearest_outside(lon, lat)
            nearest = Candidate(grids[nearest_grid], dist)
            return Location(
                lon,
                lat,
                MATCH_OUTSIDE,
                None,
                None,
                dist,
                cands,
                dist <= self.near_m,
                nearest,
                given,
            )
        if match is not MATCH_INTERIOR:
            dist = 0.0
        return Location(
            lon,
            lat,
            match,
            grids[owner],
            self._parents[owner],
            dist,
            cands,
            dist <= self.near_m,
            None,
            given,
        )

    def _owner_exact(self, k: int, lon: float, lat: float):
        """Owner of a point in mixed cell ``k``: on an edge by the edge rule, else by a ray cast.

        The ray runs east from the point to the left border of the next untouched cell in the row,
        whose owner is known; each crossing of a grid's edge (half-open in y, decided with exact
        orientation tests) flips whether the point is in that grid.
        """
        own, run, x_end, label_end = self._rays[k] or self._ray(k)
        hit = set()
        vertex = False
        for ax, ay, bx, by, p0, p1 in own:
            if (
                min(ax, bx) <= lon <= max(ax, bx)
                and ay <= lat <= by
                and orient(ax, ay, bx, by, lon, lat) == 0
            ):
                hit.add(p0)
                if p1 >= 0:
                    hit.add(p1)
                vertex = vertex or (lon == ax and lat == ay) or (lon == bx and lat == by)
        if hit:
            return min(hit), (MATCH_VERTEX if vertex else MATCH_EDGE), hit
        inside = {label_end} if label_end >= 0 else set()
        for ax, ay, bx, by, p0, p1 in run:
            if (
                ay <= lat < by
                and orient(ax, ay, bx, by, lon, lat) > 0
                and orient(ax, ay, bx, by, x_end, lat) < 0
            ):
                inside ^= {p0} if p1 < 0 else {p0, p1}
        return (min(inside) if inside else -1), MATCH_INTERIOR, ()

    def _distances(self, lon: float, lat: float, u: float, v: float) -> tuple[float, int, dict]:
        """Distance (m) to the nearest boundary segment, a grid it bounds, and per grid the
        distance when within ``near_m`` (from the proximity lists; -1 and inf beyond them)."""
        p = self._prox
        if p is None:
            with self._build_lock:
                if self._prox is None:
                    self._build_prox()
            p = self._prox
        f = PROX_FACTOR
        pi, pj = int(u) // f if u >= 0 else -1, int(v) // f if v >= 0 else -1
        if not (0 <= pi < p.pnx and 0 <= pj < p.pny):
            return math.inf, -1, {}
        pc = pj * p.pnx + pi
        b = (pj // PROX_BLOCK) * p.nbx + pi // PROX_BLOCK
        block = p.blocks[b] or self._prox_block(b)
        ptr, ch, ds = block
        lc = (pj % PROX_BLOCK) * PROX_BLOCK + pi % PROX_BLOCK
        chains = p.chain_list
        qx, qy = self._to_metric(lon, lat)
        r = math.hypot(qx - p.cx_list[pc], qy - p.cy_list[pc])
        near_m = self.near_m
        near2 = near_m * near_m
        best = best2 = math.inf
        best_grid = -1
        near: dict[int, float] = {}
        for k in range(ptr[lc], ptr[lc + 1]):
            dc = ds[k] - r
            if dc > best and dc > near_m:
                break
            minx, miny, maxx, maxy, segs, p0, p1 = chains[ch[k]]
            ex = minx - qx if qx < minx else (qx - maxx if qx > maxx else 0.0)
            ey = miny - qy if qy < miny else (qy - maxy if qy > maxy else 0.0)
            low2 = ex * ex + ey * ey
            if low2 > best2 and low2 > near2:
                continue
            c2 = math.inf
            for ax, ay, dx, dy, inv in segs:
                ex, ey = qx - ax, qy - ay
                t = (ex * dx + ey * dy) * inv
                if t > 0.0:
                    if t >= 1.0:
                        ex, ey = ex - dx, ey - dy
                    else:
                        ex, ey = ex - t * dx, ey - t * dy
                d2 = ex * ex + ey * ey
                if d2 < c2:
                    c2 = d2
            if c2 < best2:
                best2, best_grid = c2, p0
                best = math.sqrt(c2)
            if c2 <= near2:
                d = math.sqrt(c2)
                if d < near.get(p0, math.inf):
                    near[p0] = d
                if p1 >= 0 and d < near.get(p1, math.inf):
                    near[p1] = d
        return best, best_grid, near

    def _nearest_outside(self, lon: float, lat: float) -> tuple[int, float]:
        """Nearest grid and distance for a point beyond the table (far from the district).

        Where EPSG:4549 does not reach (another continent) the distance is geodesic, to the
        nearest vertex of the district's outline."""
        qx, qy = _crs.to_metric(lon, lat)
        ax, ay, dx, dy, inv, grid = self._outer
        if not (math.isfinite(qx) and math.isfinite(qy)):
            outer = self._p1 < 0
            d = _crs.geodesic_m(lon, lat, self._sa[outer, 0], self._sa[outer, 1])
            i = int(np.argmin(d))
            return int(self._p0[outer][i]), float(d[i])
        t = np.clip(((qx - ax) * dx + (qy - ay) * dy) * inv, 0.0, 1.0)
        d = np.hypot(qx - ax - t * dx, qy - ay - t * dy)
        i = int(np.argmin(d))
        return int(grid[i]), float(d[i])

    # ------------------------------------------------------------------ many points
    def locate_many(self, xs, ys, crs: str = "wgs84") -> Located:
        """Owning second-level grid of many points at once (vectorised; the same edge rule).

        >>> loc = default_locator()
        >>> r = loc.locate_many(np.array([118.93, 118.5]), np.array([32.11, 32.0]))
        >>> r.grid2_codes.tolist(), r.index.tolist()
        (['320113005007007', None], [99, -1])
        """
        xs = np.asarray(xs, dtype=float)
        ys = np.asarray(ys, dtype=float)
        xs, ys = _crs.input_to_wgs84(xs, ys, crs)
        label = self._table_labels(xs, ys)
        mixed = np.flatnonzero(label < -1)
        # a few thousand points at a time: the temporaries (about four per point) stay below
        # malloc's mmap threshold, so they are reused instead of page-faulted in on every call
        for s in range(0, len(mixed), MIXED_CHUNK):
            m = mixed[s : s + MIXED_CHUNK]
            label[m] = self._owners_of_mixed(-2 - label[m], xs[m], ys[m])
        return Located(label, self)

    def _owners_of_mixed(self, k: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """Owners of points in mixed cells ``k``: :meth:`_owner_exact`'s ray cast, vectorised.

        A grid holds a point when the grids named by the ray's end and by the edges the ray
        crosses name it an odd number of times; of those (one, unless grids overlap by a rounding
        sliver) the first in code order owns it, as on the single-point path. Points whose
        orientation tests the floating-point filter cannot decide (on or within rounding of an
        edge, or of the ray's end) take the exact single-point path.
        """
        n, ngrids = len(k), len(self._polys)
        start, stop = self._run_ptr[k], self._run_ptr[k + 1]
        count = stop - start
        first = np.cumsum(count) - count
        pt = np.repeat(np.arange(n), count)
        seg = self._run_seg[np.repeat(start - first, count) + np.arange(count.sum())]
        x, y = px[pt], py[pt]
        a, b = self._seg_lo[seg], self._seg_hi[seg]
        ax, ay, bx, by = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
        spans = (ay <= y) & (y <= by)
        crossing = spans & (y < by)
        unsure = np.zeros(len(pt), dtype=bool)
        sides = []
        for cx in (x, self._ray_x[k][pt]):  # the point, then the ray's end: Shewchuk's filter
            left = (ax - cx) * (by - y)
            right = (ay - y) * (bx - cx)
            det = left - right
            bound = _ERRBOUND * (np.abs(left) + np.abs(right))
            unsure |= np.abs(det) <= bound
            sides.append(det)
        crossing &= (sides[0] > 0) & (sides[1] < 0)
        cp, cs = pt[crossing], seg[crossing]
        p0, p1, end = self._p0[cs], self._p1[cs], self._ray_label[k]
        shared, ends = p1 >= 0, end >= 0
        keys = np.concatenate(
            [
                cp * ngrids + p0,
                cp[shared] * ngrids + p1[shared],
                np.flatnonzero(ends) * ngrids + end[ends],
            ]
        )
        keys, times = np.unique(keys, return_counts=True)
        keys = keys[times % 2 == 1]  # sorted: by point, then grid
        point, grid = np.divmod(keys, ngrids)
        lead = np.ones(len(keys), dtype=bool)
        lead[1:] = point[1:] != point[:-1]
        owner = np.full(n, -1, dtype=np.int64)
        owner[point[lead]] = grid[lead]
        # every mixed cell has a segment of its own, so no run is empty (reduceat needs that)
        redo = np.flatnonzero(np.logical_or.reduceat(unsure & spans, first))
        for i in redo.tolist():
            owner[i] = self._owner_exact(int(k[i]), float(px[i]), float(py[i]))[0]
        return owner

    def _table_labels(self, xs: np.ndarray, ys: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
        """Table labels of many WGS-84 points, in cache-sized chunks (no full-size temporaries).

        A point beyond the table is clipped to a border cell, which is outside the district."""
        n = len(xs)
        out = np.empty(n, dtype=np.int32)
        u, v = np.empty(min(n, chunk)), np.empty(min(n, chunk))
        iu, iv = np.empty(min(n, chunk), dtype=np.intp), np.empty(min(n, chunk), dtype=np.intp)
        for s in range(0, n, chunk):
            e = min(s + chunk, n)
            uu, vv, ii, jj = u[: e - s], v[: e - s], iu[: e - s], iv[: e - s]
            np.subtract(xs[s:e], self._x0, out=uu)
            uu *= self._idx
            np.clip(uu, 0, self._nx - 1, out=uu)
            np.subtract(ys[s:e], self._y0, out=vv)
            vv *= self._idy
            np.clip(vv, 0, self._ny - 1, out=vv)
            ii[:] = uu
            jj[:] = vv
            jj *= self._nx
            jj += ii
            np.take(self._flat, jj, out=out[s:e])
        return out

    # ------------------------------------------------------------------ units
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
        x, y = _crs.parse_coordinate(x, "x"), _crs.parse_coordinate(y, "y")
        lon, lat = _crs.input_to_wgs84(x, y, crs)
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

    # ------------------------------------------------------------------ info
    @property
    def grids(self) -> list[Grid]:
        """Second-level grids in locator order (by code)."""
        return list(self._grids)

    def table_stats(self) -> dict:
        """Size of the lookup table and the share of cells that need an exact test."""
        return {
            "nx": self._nx,
            "ny": self._ny,
            "mixed_cells": len(self._mixed_cells),
            "mixed_share": len(self._mixed_cells) / self._flat.size,
            "segments": len(self._p0),
        }


class _Prox(NamedTuple):
    """The distance lists of a locator (see :meth:`Locator._build_prox`)."""

    pnx: int
    pny: int
    nbx: int
    half: float
    cx: np.ndarray
    cy: np.ndarray
    cx_list: list
    cy_list: list
    upper: np.ndarray
    chains: np.ndarray
    tree: STRtree
    chain_list: list
    blocks: list


def _built(tree: STRtree) -> STRtree:
    """``tree`` with its GEOS index built now: an index built lazily by the first query would be
    built by two threads at once when two requests need it together (pygeos#361). Queries of a
    built tree only read it."""
    tree.query(shapely.points(0.0, 0.0))
    return tree


def _chamfer(sources: np.ndarray, wx: float, wy: float) -> np.ndarray:
    """Length of a short 8-connected path (steps wx, wy, diagonal) from each cell to a source cell.

    Two raster passes, each sweeping rows both ways with a min-plus accumulate; every value is the
    length of a real path, so it bounds the straight-line distance between the centres from above.

    >>> _chamfer(np.array([[True, False, False], [False, False, False]]), 1.0, 1.0).round(3).tolist()
    [[0.0, 1.0, 2.0], [1.0, 1.414, 2.414]]
    """
    wd = math.hypot(wx, wy)
    d = np.where(sources, 0.0, np.inf)
    ny, nx = d.shape
    ramp = np.arange(nx) * wx

    def sweep_row(row):
        row = np.minimum(row, np.minimum.accumulate(row - ramp) + ramp)
        return np.minimum(row, (np.minimum.accumulate((row + ramp)[::-1]))[::-1] - ramp)

    for rows in (range(ny), range(ny - 1, -1, -1)):
        prev = None
        for j in rows:
            row = d[j]
            if prev is not None:
                row = np.minimum(row, prev + wy)
                row[1:] = np.minimum(row[1:], prev[:-1] + wd)
                row[:-1] = np.minimum(row[:-1], prev[1:] + wd)
            d[j] = prev = sweep_row(row)
    return d


@cache
def _locator_for(path: str) -> Locator:
    return Locator(District.load(path))


def default_locator() -> Locator:
    """The locator over ``$GEOGRID_DATA`` (a district directory), else the bundled sample."""
    return _locator_for(str(Path(os.environ.get("GEOGRID_DATA") or default_data_dir()).resolve()))


def locate(lon, lat, crs: str = "wgs84") -> Location:
    """Locate one point in the default district (see :func:`default_locator`)."""
    return default_locator().locate(lon, lat, crs)


def locate_many(lons, lats, crs: str = "wgs84") -> Located:
    """Locate many points in the default district (see :func:`default_locator`)."""
    return default_locator().locate_many(lons, lats, crs)
