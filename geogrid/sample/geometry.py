"""The sample's geometry in metres (EPSG:4549): the outline, the Voronoi grids bent like streets
with shared edges, the communities, and reading order."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.strtree import STRtree

from ..crs import to_metric
from .params import CENTRE, COMMUNITY_SIZE, N_COMMUNITIES, N_GRIDS, VERTEX_SPACING


class _Sample:
    """One attempt at building the sample from a random generator (see :func:`generate`)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.cx, self.cy = (float(v) for v in to_metric(*CENTRE))

    # ---------------------------------------------------------------- geometry
    def outline(self) -> shapely.Polygon:
        rng = self.rng
        theta = np.linspace(0.0, 2 * math.pi, 1440, endpoint=False)
        r = np.ones_like(theta)
        for k in range(2, 10):
            r += (
                rng.uniform(0.02, 0.10)
                / math.sqrt(k)
                * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
            )
        stretch, angle = rng.uniform(1.15, 1.35), rng.uniform(-0.4, 0.4)
        x, y = 3200.0 * r * np.cos(theta) * stretch, 3200.0 * r * np.sin(theta) / stretch
        ca, sa = math.cos(angle), math.sin(angle)
        return shapely.Polygon(
            np.column_stack([self.cx + ca * x - sa * y, self.cy + sa * x + ca * y])
        )

    def zones(self, outline: shapely.Polygon):
        """Density zones: (kind, centre, radii, density) ellipses; elsewhere 混合 at density 1."""
        rng = self.rng
        minx, miny, maxx, maxy = outline.bounds
        w, h = maxx - minx, maxy - miny

        def spot(fx, fy):
            p = shapely.Point(minx + fx * w, miny + fy * h)
            if not outline.contains(p):
                p = shapely.ops.nearest_points(outline.buffer(-600), p)[0]
            return p.x + rng.normal(0, 150), p.y + rng.normal(0, 150)

        return [
            ("商业", spot(0.52, 0.48), (700.0, 550.0), 3.0),
            ("商业", spot(0.80, 0.30), (450.0, 400.0), 3.0),
            ("校园", spot(0.72, 0.62), (1900.0, 1300.0), 0.10),
            ("校园", spot(0.30, 0.70), (1300.0, 1000.0), 0.10),
            ("产业", spot(0.15, 0.35), (1100.0, 900.0), 0.8),
            ("生态", spot(0.50, 0.88), (900.0, 700.0), 0.2),
            ("住宅", spot(0.45, 0.28), (1300.0, 900.0), 2.5),
            ("住宅", spot(0.82, 0.22), (800.0, 700.0), 2.2),
        ]

    @staticmethod
    def zone_of(zones, x, y):
        """Kind and density at points (x, y): the first zone containing them wins."""
        kind = np.full(np.shape(x), "混合", dtype=object)
        dens = np.ones(np.shape(x))
        free = np.ones(np.shape(x), dtype=bool)
        for name, (zx, zy), (rx, ry), d in zones:
            inside = free & (((x - zx) / rx) ** 2 + ((y - zy) / ry) ** 2 <= 1.0)
            kind[inside], dens[inside] = name, d
            free &= ~inside
        return kind, dens

    def seeds(self, outline, zones) -> np.ndarray:
        """156 seed points: k-means centres over points drawn from the density map."""
        rng = self.rng
        minx, miny, maxx, maxy = outline.bounds
        pts = []
        while sum(len(p) for p in pts) < 24000:
            x, y = rng.uniform(minx, maxx, 20000), rng.uniform(miny, maxy, 20000)
            keep = shapely.contains_xy(outline, x, y)
            _, dens = self.zone_of(zones, x, y)
            keep &= rng.uniform(0, 3.5, x.size) < dens
            pts.append(np.column_stack([x[keep], y[keep]]))
        pts = np.concatenate(pts)[:24000]
        centres = pts[rng.choice(len(pts), N_GRIDS, replace=False)]
        for _ in range(40):
            label = (centres**2).sum(1)[None, :] - 2.0 * pts @ centres.T
            label = label.argmin(axis=1)
            counts = np.bincount(label, minlength=N_GRIDS)
            for axis in (0, 1):
                sums = np.bincount(label, weights=pts[:, axis], minlength=N_GRIDS)
                centres[:, axis] = np.where(
                    counts > 0, sums / np.maximum(counts, 1), centres[:, axis]
                )
        return centres

    def cells(self, outline, seeds) -> list[shapely.Polygon]:
        """Voronoi cells of ``seeds`` clipped to ``outline``, re-noded and densified; one per seed."""
        box = shapely.box(*outline.buffer(3000).bounds)
        vor = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=box, ordered=True)
        )
        # One union nodes the Voronoi edges and the outline together: clipping first would leave
        # cut points a hair off the outline, and dangling edges.
        noded = shapely.union_all(np.append(shapely.boundary(vor), outline.boundary))
        faces = shapely.get_parts(
            shapely.polygonize(shapely.get_parts(shapely.segmentize(noded, VERTEX_SPACING)))
        )
        faces = faces[shapely.contains(outline, shapely.point_on_surface(faces))]
        owner = STRtree(vor).query(shapely.point_on_surface(faces), predicate="within")
        face_cell = np.empty(len(faces), dtype=int)
        face_cell[owner[0]] = owner[1]
        # A cell cut in pieces by the outline keeps the piece holding its seed; every other piece
        # goes to the neighbour it shares the longest edge with.
        seed_pts = shapely.points(seeds)
        for cell in range(len(seeds)):
            idx = np.flatnonzero(face_cell == cell)
            if len(idx) > 1:
                keep = idx[shapely.covers(faces[idx], seed_pts[cell])]
                keep = keep[0] if len(keep) else idx[np.argmax(shapely.area(faces[idx]))]
                for f in idx[idx != keep]:
                    shared = shapely.length(
                        shapely.intersection(faces[f].boundary, shapely.boundary(faces))
                    )
                    shared[face_cell == cell] = 0.0
                    face_cell[f] = face_cell[int(np.argmax(shared))]
        return [shapely.coverage_union_all(faces[face_cell == c]) for c in range(len(seeds))]

    def displacement(self):
        """A smooth displacement field (max slope < 0.5) that bends straight edges into streets."""
        rng = self.rng
        waves = []
        for _ in range(4):
            wavelength = rng.uniform(350.0, 900.0)
            amp = rng.uniform(4.0, 9.0)
            ang = rng.uniform(0, 2 * math.pi)
            k = 2 * math.pi / wavelength
            waves.append(
                (
                    amp,
                    k * math.cos(ang),
                    k * math.sin(ang),
                    rng.uniform(0, 2 * math.pi),
                    rng.uniform(0, 2 * math.pi),
                )
            )

        def apply(coords: np.ndarray) -> np.ndarray:
            x, y = coords[:, 0], coords[:, 1]
            dx, dy = np.zeros_like(x), np.zeros_like(y)
            for amp, kx, ky, p1, p2 in waves:
                phase = kx * (x - self.cx) + ky * (y - self.cy)
                dx += amp * np.sin(phase + p1)
                dy += amp * np.sin(phase + p2)
            return np.column_stack([x + dx, y + dy])

        return apply

    # ---------------------------------------------------------------- communities
    def communities(self, cells: list) -> np.ndarray | None:
        """Grow 10 contiguous communities of 13-18 cells; ``None`` when this attempt fails."""
        rng = self.rng
        geoms = np.array(cells, dtype=object)
        tree = STRtree(geoms)
        a, b = tree.query(geoms, predicate="intersects")
        keep = a < b
        a, b = a[keep], b[keep]
        shared = shapely.length(
            shapely.intersection(shapely.boundary(geoms[a]), shapely.boundary(geoms[b]))
        )
        adj = [set() for _ in cells]
        for i, j in zip(a[shared > 1.0], b[shared > 1.0], strict=True):
            adj[i].add(int(j))
            adj[j].add(int(i))
        cent = shapely.get_coordinates(shapely.centroid(geoms))
        pick = rng.choice(len(cells), N_COMMUNITIES, replace=False)
        centres = cent[pick].copy()
        for _ in range(30):
            lab = ((cent[:, None] - centres[None]) ** 2).sum(2).argmin(1)
            for c in range(N_COMMUNITIES):
                if (lab == c).any():
                    centres[c] = cent[lab == c].mean(0)
        starts = [int(((cent - centres[c]) ** 2).sum(1).argmin()) for c in range(N_COMMUNITIES)]
        if len(set(starts)) < N_COMMUNITIES:
            return None
        owner = np.full(len(cells), -1)
        for c, s in enumerate(starts):
            owner[s] = c
        while (owner < 0).any():
            sizes = np.bincount(owner[owner >= 0], minlength=N_COMMUNITIES)
            grown = False
            for c in np.argsort(sizes, kind="stable"):
                members = np.flatnonzero(owner == c)
                frontier = sorted({n for m in members for n in adj[m] if owner[n] < 0})
                if frontier:
                    mean = cent[members].mean(0)
                    best = min(frontier, key=lambda n: ((cent[n] - mean) ** 2).sum())
                    owner[best] = c
                    grown = True
                    break
            if not grown:
                return None
        sizes = np.bincount(owner, minlength=N_COMMUNITIES)
        if sizes.min() < COMMUNITY_SIZE[0] or sizes.max() > COMMUNITY_SIZE[1]:
            return None
        return owner


def _reading_order(x: np.ndarray, y: np.ndarray, band: float) -> np.ndarray:
    """Indices in reading order: rows of height ``band`` from north to south, west to east in each."""
    order = np.argsort(-y, kind="stable")
    rows, row, top = [], [], None
    for i in order:
        if top is not None and top - y[i] > band:
            rows.append(row)
            row = []
        if not row:
            top = y[i]
        row.append(i)
    rows.append(row)
    return np.array([i for r in rows for i in sorted(r, key=lambda k: x[k])], dtype=int)
