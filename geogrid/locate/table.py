"""Who owns a point: the lookup table over the district's bounding box, the boundary segments and
the exact ray casts in the cells an edge crosses (one point, or many vectorised)."""

from __future__ import annotations

import math

import numpy as np
import shapely

from ..errors import DataError
from .answers import MATCH_EDGE, MATCH_INTERIOR, MATCH_VERTEX
from .predicates import ERRBOUND, orient
from .tuning import CHAIN, TOUCH_EPS


class OwnerTable:
    """The ownership part of :class:`~geogrid.locate.Locator` (built by its constructor)."""

    def _build_segments(self) -> None:
        """Unique boundary segments, each with the one or two grids it bounds."""
        polys = shapely.orient_polygons(self._polys, exterior_cw=False)
        # every ring of every part: a multi-part grid (an exclave, 飞地) owns each of its parts
        rings = [
            (i, ring)
            for i, poly in enumerate(polys)
            for p in shapely.get_parts(poly)
            for ring in (p.exterior, *p.interiors)
        ]
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
            for c in (np.floor(col_f - TOUCH_EPS), np.floor(col_f + TOUCH_EPS)):
                cells.append(row.astype(np.int64) * nx + c.astype(np.int64))
                segs.append(seg)

        # cells holding an endpoint
        for u, v in ((ua, va), (ub, vb)):
            for r in (np.floor(v - TOUCH_EPS), np.floor(v + TOUCH_EPS)):
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
                    for r in (np.floor(cross - TOUCH_EPS), np.floor(cross + TOUCH_EPS)):
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
            bound = ERRBOUND * (np.abs(left) + np.abs(right))
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
