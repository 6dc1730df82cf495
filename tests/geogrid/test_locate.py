"""The locator against shapely's exact predicates, on the sample district and on tricky tilings."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.strtree import STRtree

from geogrid import crs
from geogrid.errors import CoordinateError, CRSError, DataError
from geogrid.locate import NEAR_M, Locator, default_locator, locate, locate_many, orient
from geogrid.model import GRID1_COLUMNS, GRID2_COLUMNS, District, _frame, default_data_dir


@pytest.fixture(scope="module")
def district() -> District:
    return District.load(default_data_dir())


@pytest.fixture(scope="module")
def locator(district) -> Locator:
    return Locator(district)


@pytest.fixture(scope="module")
def grids(district):
    """Second-level grids sorted by code (the locator's order), lon/lat and metric."""
    g = district.grids2.sort_values("code").reset_index(drop=True)
    polys = np.asarray(g.geometry.values, dtype=object)
    metric = crs.geometry_to_metric(polys)
    return g["code"].tolist(), polys, metric


def covering(polys, xs, ys) -> np.ndarray:
    """Truth by shapely: the smallest index of the grids covering each point, -1 if none."""
    pts = shapely.points(xs, ys)
    pi, gi = STRtree(polys).query(pts, predicate="intersects")
    owner = np.full(len(pts), len(polys) + 1)
    np.minimum.at(owner, pi, gi)
    owner[owner == len(polys) + 1] = -1
    return owner


def random_points(district, n, seed, margin=0.01):
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = district.outline.bounds
    return rng.uniform(minx - margin, maxx + margin, n), rng.uniform(
        miny - margin, maxy + margin, n
    )


def near_edge_points(polys, n, seed):
    """Points on or within a hair of grid edges: where a lookup table has to think."""
    rng = np.random.default_rng(seed)
    coords = [np.asarray(p.exterior.coords) for p in polys]
    a = np.concatenate([c[:-1] for c in coords])
    b = np.concatenate([c[1:] for c in coords])
    k = rng.integers(0, len(a), n)
    t = rng.uniform(0, 1, n)
    pts = a[k] + t[:, None] * (b[k] - a[k])
    # a third exactly as computed, the rest nudged by 1e-13 .. 1e-6 degrees
    nudge = rng.normal(size=(n, 2)) * 10.0 ** rng.uniform(-13, -6, (n, 1))
    nudge[: n // 3] = 0
    pts = pts + nudge
    return pts[:, 0], pts[:, 1]


# ----------------------------------------------------------------------------- ownership
def test_bulk_matches_shapely_on_random_points(district, locator, grids):
    _, polys, _ = grids
    xs, ys = random_points(district, 300_000, seed=1)
    got = locator.locate_many(xs, ys).index
    assert (got == covering(polys, xs, ys)).all()
    assert (got >= 0).mean() > 0.3  # a real share of the points is inside the district


def test_bulk_and_single_match_shapely_next_to_edges(locator, grids):
    codes, polys, _ = grids
    xs, ys = near_edge_points(polys, 20_000, seed=2)
    truth = covering(polys, xs, ys)
    assert (locator.locate_many(xs, ys).index == truth).all()
    for x, y, t in zip(xs.tolist(), ys.tolist(), truth.tolist(), strict=True):
        got = locator.locate(x, y)
        assert (got.grid2.code if got.grid2 else None) == (codes[t] if t >= 0 else None), (x, y)


def test_single_matches_shapely_on_random_points(district, locator, grids):
    codes, polys, _ = grids
    xs, ys = random_points(district, 20_000, seed=3)
    truth = covering(polys, xs, ys)
    for x, y, t in zip(xs.tolist(), ys.tolist(), truth.tolist(), strict=True):
        got = locator.locate(x, y)
        assert got.match == ("interior" if t >= 0 else "outside")
        assert (got.grid2.code if got.grid2 else None) == (codes[t] if t >= 0 else None)


def test_vertices_go_to_the_smallest_code(locator, grids):
    codes, polys, _ = grids
    verts = np.unique(np.concatenate([np.asarray(p.exterior.coords) for p in polys]), axis=0)
    truth = covering(polys, verts[:, 0], verts[:, 1])
    assert (truth >= 0).all()
    assert (locator.locate_many(verts[:, 0], verts[:, 1]).index == truth).all()
    shared = 0
    for (x, y), t in zip(verts.tolist(), truth.tolist(), strict=True):
        got = locator.locate(x, y)
        assert got.match == "vertex"
        assert got.grid2.code == codes[t]
        assert got.distance_m == 0.0 and got.needs_confirmation
        others = {c.grid.code for c in got.candidates if c.distance_m < 1e-6}
        expected = {codes[i] for i in np.flatnonzero(shapely.intersects_xy(polys, x, y))} - {
            codes[t]
        }
        assert others == expected
        shared += bool(others)
    assert shared > 500  # most vertices are shared by two or more grids


def test_points_exactly_on_edges(locator, grids):
    """Midpoints of edges: exactly on the edge when the sums round exactly, else a hair beside it;
    shapely decides which."""
    codes, polys, _ = grids
    coords = np.concatenate([np.asarray(p.exterior.coords) for p in polys[::3]])
    mid = (coords[:-1] + coords[1:]) / 2
    xs, ys = mid[::4, 0], mid[::4, 1]
    boundaries = shapely.boundary(polys)
    on_edge = 0
    for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
        touching = np.flatnonzero(shapely.intersects_xy(boundaries, x, y))
        got = locator.locate(x, y)
        if len(touching):
            on_edge += 1
            assert got.match in ("edge", "vertex")
            assert got.grid2.code == codes[touching.min()]
            assert {c.grid.code for c in got.candidates if c.distance_m == 0.0} | {
                got.grid2.code
            } >= {codes[i] for i in touching}
        else:
            assert got.match in ("interior", "outside")
    assert on_edge > 100  # enough exact hits to exercise the rule


def test_outer_boundary_and_far_outside(district, locator, grids):
    codes, polys, metric = grids
    ring = np.asarray(district.outline.exterior.coords)[::37]
    for x, y in ring.tolist():
        got = locator.locate(x, y)
        assert got.match in ("edge", "vertex") and got.grid2 is not None
    far = locator.locate(118.5, 32.0)
    assert far.match == "outside" and far.grid2 is None and far.grid1 is None
    qx, qy = crs.to_metric(118.5, 32.0)
    d = shapely.distance(metric, shapely.Point(qx, qy))
    assert far.nearest.grid.code == codes[int(np.argmin(d))]
    assert far.distance_m == pytest.approx(float(d.min()), abs=1e-6)
    assert locator.locate_many([118.5, -170.0], [32.0, -80.0]).index.tolist() == [-1, -1]


# ----------------------------------------------------------------------------- distances
def test_distances_and_candidates_match_shapely(district, locator, grids):
    """Distances agree with shapely in EPSG:4549 to 10 µm: a straight edge in lon/lat is a hair
    away (1e-6 m over a 12 m edge) from the straight edge between its projected vertices."""
    codes, polys, metric = grids
    tol = 1e-5
    xs, ys = random_points(district, 3000, seed=5)
    ex, ey = near_edge_points(polys, 1000, seed=6)
    xs, ys = np.concatenate([xs, ex[-1000:]]), np.concatenate([ys, ey[-1000:]])
    qx, qy = crs.to_metric(xs, ys)
    bounds_m = shapely.boundary(metric)
    territory = shapely.coverage_union_all(metric)
    for i, (x, y) in enumerate(zip(xs.tolist(), ys.tolist(), strict=True)):
        got = locator.locate(x, y)
        p = shapely.Point(qx[i], qy[i])
        d_all = shapely.distance(metric, p)  # 0 inside a grid
        if got.grid2 is not None:
            own = codes.index(got.grid2.code)
            expected = 0.0 if got.match != "interior" else shapely.distance(bounds_m[own], p)
        else:
            own = -1
            expected = shapely.distance(territory, p)
            assert got.nearest.distance_m == pytest.approx(expected, abs=tol)
            assert d_all[codes.index(got.nearest.grid.code)] == pytest.approx(expected, abs=tol)
        assert got.distance_m == pytest.approx(expected, abs=tol)
        assert got.needs_confirmation == (got.distance_m <= NEAR_M)
        near = {codes[j] for j in np.flatnonzero(d_all <= NEAR_M) if j != own}
        unsure = {codes[j] for j in np.flatnonzero(np.abs(d_all - NEAR_M) < tol)}
        got_codes = {c.grid.code for c in got.candidates}
        assert got_codes - unsure == near - unsure
        for c in got.candidates:
            assert c.distance_m == pytest.approx(d_all[codes.index(c.grid.code)], abs=tol)
        assert [c.distance_m for c in got.candidates] == sorted(
            c.distance_m for c in got.candidates
        )


def test_answer_carries_people_and_serialises(locator, district):
    unit = district.units.iloc[0]
    got = locator.locate(unit.geometry.x, unit.geometry.y)
    g2 = district.grid2(unit["grid"])
    g1 = district.grid1(g2["parent"])
    assert got.grid2.code == unit["grid"]
    assert got.grid2.people["worker"] == g2["worker"]
    assert got.grid1.code == g1["code"]
    assert got.grid1.people["office"] == g1["office"]
    d = got.to_dict()
    assert d["grid2"]["worker_phone"] == g2["worker_phone"]
    assert d["grid1"]["leader"] == g1["leader"]
    assert set(d) >= {
        "lon",
        "lat",
        "match",
        "distance_m",
        "needs_confirmation",
        "candidates",
        "nearest",
    }


# ----------------------------------------------------------------------------- input systems
def test_every_unit_locates_to_its_grid_in_every_crs(district, locator):
    lon = district.units.geometry.x.to_numpy()
    lat = district.units.geometry.y.to_numpy()
    expected = district.units["grid"].to_numpy(dtype=object)
    assert (locator.locate_many(lon, lat).grid2_codes == expected).all()
    for name in ("gcj02", "bd09", "cgcs2000", "EPSG:4549"):
        x, y = crs.from_wgs84(lon, lat, name)
        assert (locator.locate_many(x, y, name).grid2_codes == expected).all(), name
        for i in range(0, len(lon), 97):
            got = locator.locate(float(x[i]), float(y[i]), crs=name)
            assert got.grid2.code == expected[i]
            assert got.lon == pytest.approx(lon[i], abs=1e-9)
            assert got.to_dict()["input"]["crs"] == crs.normalize_crs(name)


def test_gcj02_taken_for_wgs84_lands_elsewhere(district, locator):
    """The reason the CRS matters: the GCJ-02 offset here is wider than a grid."""
    lon = district.units.geometry.x.to_numpy()
    lat = district.units.geometry.y.to_numpy()
    gx, gy = crs.wgs84_to_gcj02(lon, lat)
    wrong = locator.locate_many(gx, gy).grid2_codes
    assert (wrong != district.units["grid"].to_numpy(dtype=object)).mean() > 0.9


@pytest.mark.parametrize(
    ("x", "y", "name", "error", "text"),
    [
        (118.9, 95.0, "wgs84", CoordinateError, "lat"),
        (200.0, 32.0, "wgs84", CoordinateError, "lon"),
        ("abc", 32.1, "wgs84", CoordinateError, "abc"),
        (float("nan"), 32.1, "wgs84", CoordinateError, "nan"),
        (118.9, 32.1, "mars2000", CRSError, "mars2000"),
    ],
)
def test_bad_input_is_a_clear_error(locator, x, y, name, error, text):
    with pytest.raises(error, match=text):
        locator.locate(x, y, crs=name)


def test_bulk_bad_input(locator):
    with pytest.raises(CoordinateError):
        locator.locate_many([118.9, np.nan], [32.1, 32.1])
    with pytest.raises(CoordinateError):
        locator.locate_many([118.9], [132.1])
    with pytest.raises(CRSError):
        locator.locate_many([118.9], [32.1], "nope")


def test_strings_and_ints_are_accepted(locator):
    assert locator.locate("118.93", "32.11").grid2.code == locator.locate(118.93, 32.11).grid2.code
    assert locator.locate(119, 32).match == "outside"


def test_module_level_helpers_use_the_bundled_district(monkeypatch):
    monkeypatch.delenv("GEOGRID_DATA", raising=False)
    assert locate(118.93, 32.11).grid2.code == default_locator().locate(118.93, 32.11).grid2.code
    assert locate_many([118.93], [32.11]).grid2_codes.tolist() == [locate(118.93, 32.11).grid2.code]


# ----------------------------------------------------------------------------- units
def test_nearest_units_and_radius_match_brute_force(district, locator):
    ux, uy = crs.to_metric(
        district.units.geometry.x.to_numpy(), district.units.geometry.y.to_numpy()
    )
    rng = np.random.default_rng(7)
    for lon, lat in zip(
        rng.uniform(118.90, 118.96, 50), rng.uniform(32.09, 32.13, 50), strict=True
    ):
        qx, qy = crs.to_metric(lon, lat)
        d = np.hypot(ux - qx, uy - qy)
        order = np.lexsort((district.units["code"].to_numpy(dtype=str), d))
        got = locator.nearest_units(float(lon), float(lat), k=5)
        assert [h.code for h in got] == district.units["code"].to_numpy()[order[:5]].tolist()
        assert [h.distance_m for h in got] == pytest.approx(d[order[:5]].tolist(), abs=1e-6)
        within = locator.units_within(float(lon), float(lat), 150.0)
        assert {h.code for h in within} == set(district.units["code"].to_numpy()[d <= 150.0])
        assert all(h.distance_m <= 150.0 for h in within)
    gx, gy = crs.wgs84_to_gcj02(118.93, 32.11)
    assert locator.nearest_units(gx, gy, k=3, crs="gcj02") == locator.nearest_units(
        118.93, 32.11, k=3
    )


def test_one_locator_answers_many_threads_at_once(district):
    """The web service shares one locator between its threads: all of them querying it at once
    get the single-threaded answers (the rtree this replaced crashed the process here)."""
    loc = Locator(district)  # fresh: its lazily built distance lists are built by the threads
    rng = np.random.default_rng(11)
    pts = list(zip(rng.uniform(118.88, 118.98, 300), rng.uniform(32.07, 32.15, 300), strict=True))

    def answers(points):
        return [
            (
                loc.locate(float(x), float(y)).to_dict(),
                [h.code for h in loc.nearest_units(float(x), float(y), k=5)],
                [h.code for h in loc.units_within(float(x), float(y), 200.0)],
                loc.locate_many(np.array([x]), np.array([y])).grid2_codes.tolist(),
            )
            for x, y in points
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(answers, [pts] * 8))
    alone = answers(pts)
    assert all(got == alone for got in together)


# ----------------------------------------------------------------------------- tricky tilings
def _tiling(cells: list[tuple[str, shapely.Polygon]]) -> District:
    parent = "320113005001"
    g2 = _frame(
        [
            {
                "code": c,
                "name": f"网格{c[-3:]}",
                "parent": parent,
                "kind": "混合",
                "worker": "张三",
                "worker_phone": "1",
            }
            for c, _ in cells
        ],
        GRID2_COLUMNS,
        [p for _, p in cells],
    )
    union = shapely.union_all([p for _, p in cells])  # the cells may overlap (tests of refusal)
    g1 = _frame(
        [{"code": parent, "name": "测试社区", "parent": "320113005"}], GRID1_COLUMNS, [union]
    )
    return District("320113005", "测试", g1, g2, outline=union)


def lattice_with_enclave() -> District:
    """3 x 3 unit squares at binary-exact coordinates; the middle one holds an enclave grid."""
    cells = []
    x0, y0, s = 118.875, 32.0625, 0.0078125  # all exact in binary
    n = 1
    for j in range(3):
        for i in range(3):
            sq = shapely.box(x0 + i * s, y0 + j * s, x0 + (i + 1) * s, y0 + (j + 1) * s)
            if (i, j) == (1, 1):
                hole = shapely.box(x0 + 1.25 * s, y0 + 1.25 * s, x0 + 1.75 * s, y0 + 1.75 * s)
                sq = sq.difference(hole)
                sq = shapely.Polygon(sq.exterior.coords, [hole.exterior.coords])
            cells.append((f"320113005001{n:03d}", sq))
            n += 1
    cells.append(("320113005001010", hole))
    return _tiling(cells)


@pytest.mark.parametrize("resolution", [8, 13, 64, 256])
def test_tricky_tiling_edges_on_table_lines(resolution):
    """Grid lines that coincide with table cell borders, an enclave, and exact edge points."""
    d = lattice_with_enclave()
    loc = Locator(d, resolution=resolution)
    g = d.grids2.sort_values("code")
    polys, codes = np.asarray(g.geometry.values, dtype=object), g["code"].tolist()
    x0, y0, s = 118.875, 32.0625, 0.0078125
    ticks = x0 + np.arange(0, 3.01, 0.125) * s, y0 + np.arange(0, 3.01, 0.125) * s
    gx, gy = np.meshgrid(*ticks)
    rng = np.random.default_rng(resolution)
    xs = np.concatenate([gx.ravel(), rng.uniform(x0 - s, x0 + 4 * s, 4000)])
    ys = np.concatenate([gy.ravel(), rng.uniform(y0 - s, y0 + 4 * s, 4000)])
    truth = covering(polys, xs, ys)
    assert (loc.locate_many(xs, ys).index == truth).all()
    boundaries = shapely.boundary(polys)
    for x, y, t in zip(xs.tolist(), ys.tolist(), truth.tolist(), strict=True):
        got = loc.locate(x, y)
        assert (got.grid2.code if got.grid2 else None) == (codes[t] if t >= 0 else None), (x, y)
        on = shapely.intersects_xy(boundaries, x, y).any()
        assert (got.match in ("edge", "vertex")) == bool(on), (x, y, got.match)
    enclave = loc.locate(x0 + 1.5 * s, y0 + 1.5 * s)
    assert enclave.grid2.code == "320113005001010" and enclave.match == "interior"
    ring = loc.locate(x0 + 1.1 * s, y0 + 1.5 * s)
    assert ring.grid2.code == "320113005001005"


@pytest.mark.parametrize("resolution", [8, 64])
def test_a_grid_in_two_parts_owns_both(resolution):
    """An exclave (飞地): grid 001 owns the west column and a square cut out of the east one,
    which 002 surrounds; every point goes to the grid shapely says, edges by the usual rule."""
    x0, y0, s = 118.875, 32.0625, 0.0078125
    west = shapely.box(x0, y0, x0 + s, y0 + 2 * s)
    part = shapely.box(x0 + 1.25 * s, y0 + 0.25 * s, x0 + 1.75 * s, y0 + 0.75 * s)
    east = shapely.Polygon(
        shapely.box(x0 + s, y0, x0 + 2 * s, y0 + 2 * s).exterior.coords, [part.exterior.coords]
    )
    exclave = shapely.MultiPolygon([west, part])
    d = _tiling([("320113005001001", exclave), ("320113005001002", east)])
    loc = Locator(d, resolution=resolution)
    rng = np.random.default_rng(resolution)
    xs, ys = rng.uniform(x0 - s / 4, x0 + 2.25 * s, 6000), rng.uniform(y0, y0 + 2 * s, 6000)
    truth = covering(np.array([exclave, east]), xs, ys)
    assert (loc.locate_many(xs, ys).index == truth).all()
    inside = loc.locate(x0 + 1.5 * s, y0 + 0.5 * s)
    assert inside.grid2.code == "320113005001001" and inside.match == "interior"
    on_edge = loc.locate(x0 + 1.25 * s, y0 + 0.5 * s)  # the exclave's west edge
    assert on_edge.grid2.code == "320113005001001" and on_edge.match == "edge"
    assert loc.locate(x0 + 1.9 * s, y0 + 0.5 * s).grid2.code == "320113005001002"


def test_overlapping_grids_are_refused_but_rounding_slivers_are_answered():
    """Data never validated (``geogrid locate --data DIR``) may overlap: no owner is invented."""
    x0, y0, s = 118.875, 32.0625, 0.0078125
    cells = [
        (f"320113005001{i + 1:03d}", shapely.box(x0 + i * s / 2, y0, x0 + i * s / 2 + s, y0 + s))
        for i in range(3)
    ]  # each square overlaps the next by half
    d = _tiling(cells[:1])
    d.grids2 = _tiling(cells).grids2
    with pytest.raises(
        DataError, match=r"grids 320113005001001 and 320113005001002 overlap near 118.8"
    ):
        Locator(d, resolution=64)
    # a rounding sliver, as validation lets through (a vertex of one grid 1e-7 degree past its
    # neighbour's edge): both paths answer by the edge rule, the smaller code
    tip = x0 + s + 1e-7
    left = shapely.Polygon(
        [(x0, y0), (x0 + s, y0), (tip, y0 + s / 2), (x0 + s, y0 + s), (x0, y0 + s)]
    )
    right = shapely.box(x0 + s, y0, x0 + 2 * s, y0 + s)
    loc = Locator(_tiling([("320113005001001", left), ("320113005001002", right)]), resolution=64)
    rng = np.random.default_rng(12)
    xs = np.concatenate([rng.uniform(x0, x0 + 2 * s, 5000), x0 + s + rng.uniform(0, 1e-7, 5000)])
    ys = np.concatenate(
        [rng.uniform(y0, y0 + s, 5000), y0 + s / 2 + rng.uniform(-1e-5, 1e-5, 5000)]
    )
    truth = covering(np.array([left, right]), xs, ys)
    in_sliver = shapely.intersects_xy(left, xs, ys) & shapely.intersects_xy(right, xs, ys)
    assert in_sliver.sum() > 100
    assert (loc.locate_many(xs, ys).index == truth).all()
    for x, y, t in zip(xs[::10].tolist(), ys[::10].tolist(), truth[::10].tolist(), strict=True):
        assert loc.locate(x, y).grid2.code == f"320113005001{t + 1:03d}"


def test_orient_is_exact():
    rng = np.random.default_rng(8)
    for _ in range(3000):
        ax, ay, bx, by = rng.uniform(118.9, 119.0, 4).tolist()
        t = rng.uniform(-1, 2)
        cx, cy = ax + t * (bx - ax), ay + t * (by - ay)  # on the line up to rounding
        cx = math.nextafter(cx, math.inf) if rng.uniform() < 0.3 else cx
        f = Fraction
        exact = (f(ax) - f(cx)) * (f(by) - f(cy)) - (f(ay) - f(cy)) * (f(bx) - f(cx))
        assert orient(ax, ay, bx, by, cx, cy) == (exact > 0) - (exact < 0)


def test_locator_on_geodataframe_built_grids_has_table_stats(district):
    loc = Locator(district, resolution=256)
    stats = loc.table_stats()
    assert stats["nx"] <= 256 and stats["ny"] <= 256
    assert 0 < stats["mixed_share"] < 0.5
    assert isinstance(district.grids2, gpd.GeoDataFrame)


def test_points_beyond_the_metric_crs_get_geodesic_distances(locator, district):
    """EPSG:4549 does not reach Africa: the answer is still outside, with the nearest grid and a
    geodesic distance, and no numpy warning (warnings are errors here)."""
    got = locator.locate(30.0, 0.0)
    assert got.match == "outside" and got.grid2 is None
    outline = np.asarray(district.outline.exterior.coords)
    d = crs.geodesic_m(30.0, 0.0, outline[:, 0], outline[:, 1])
    assert got.distance_m == pytest.approx(float(d.min()), rel=1e-9)
    assert got.nearest.distance_m == got.distance_m
    units = locator.nearest_units(30.0, 0.0, k=3)
    assert len(units) == 3 and all(9.5e6 < u.distance_m < 1.05e7 for u in units)
    assert locator.units_within(30.0, 0.0, 1000.0) == []
