"""Distances to the nearest boundary and the grids within the confirmation distance: per
coarse cell, lists of the boundary chains that can be nearest, built a block at a time."""

from __future__ import annotations

import math
from array import array
from typing import NamedTuple

import numpy as np
import shapely
from shapely.strtree import STRtree

from .. import crs as _crs
from .tuning import PROX_BLOCK, PROX_FACTOR


class Distances:
    """The distance part of :class:`~geogrid.locate.Locator`."""

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
