"""Tests of geogrid.planning: edits, the incremental check, workload and impact.

Property tests apply random cuts, splits, merges, vertex drags, boundary moves and grid moves to
the bundled sample district (156 grids, 1786 units) and check after each edit what the planner
relies on: a valid coverage (GEOS' coverage check and the full validator without errors),
communities exactly the union of their grids, every unit in one existing grid that holds it,
the territory's area unchanged, and the incremental check agreeing with the full validator. A
small lattice district gives hand-checked figures for the impact preview.
"""

from __future__ import annotations

import json
import math
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.ops
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import box

from geogrid.crs import from_metric, geometry_from_metric, to_metric
from geogrid.errors import InputError
from geogrid.model import LAYER_COLUMNS, District, default_data_dir
from geogrid.planning import (
    EDITS,
    OVERRIDE,
    DragEdge,
    DragVertex,
    Merge,
    MoveBoundary,
    MoveGridToCommunity,
    MoveUnit,
    Recode,
    Rename,
    ReplaceGrids,
    SetWorker,
    Split,
    edit_from_dict,
    next_codes,
)
from geogrid.planning import geometry as geo
from geogrid.planning.check import agreement, check_edit, check_grids
from geogrid.planning.impact import impact, to_geojson
from geogrid.planning.workload import Weights, count_points, workload
from geogrid.validate import validate

SAMPLE = District.load(default_data_dir())
CODES = list(SAMPLE.grids2["code"])
TOTAL_M2 = float(geo.areas_m2(SAMPLE.grids2.geometry.to_numpy()).sum())
#: New vertices lie on the storage grid (1e-7°), within 0.7 cm of the edge they cut: on the
#: sample's edges (vertices every 12 m or so) that moves a few cm² per vertex.
SLACK_M2 = 0.5

#: Examples per property (``GEOGRID_PLAN_EXAMPLES`` raises it for a longer run): with the
#: sequences of up to 8 edits, some 1,400 random edits per run, each fully validated.
EXAMPLES = int(os.environ.get("GEOGRID_PLAN_EXAMPLES", "150"))

PROPS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis folder in the work tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# ====================================================================== helpers
def m2ll(x, y):
    lon, lat = from_metric(x, y)
    return (float(lon), float(lat))


def ll2m(lon, lat):
    return np.array(to_metric(lon, lat), dtype=float)


def neighbours(d: District, code: str, same_community: bool | None = None) -> list[str]:
    """The grids sharing an edge with grid ``code`` (of its community, of others, or all)."""
    g = d.grid2(code).geometry
    parent = d.grid2(code)["parent"]
    out = []
    for k in d.grids2.sindex.query(g, predicate="intersects"):
        c, p, h = d.grids2["code"].iloc[k], d.grids2["parent"].iloc[k], d.grids2.geometry.iloc[k]
        if c == code or not geo.shares_edge(g, h):
            continue
        if same_community is None or (p == parent) == same_community:
            out.append(c)
    return sorted(out)


def assert_sound(before: District, after: District, result, retired=(), full=True):
    """What every edit must keep, and what the incremental check must find."""
    g2 = after.grids2
    geoms = g2.geometry.to_numpy()
    codes = list(g2["code"])
    assert len(set(codes)) == len(codes)
    assert shapely.coverage_is_valid(geoms)
    assert shapely.is_valid(geoms).all()
    # the territory's area (a cut ending on the outline puts its end on the storage grid,
    # within 1 cm of the line it meets: area moves by a few cm²)
    assert math.isclose(geo.areas_m2(geoms).sum(), TOTAL_M2, rel_tol=0, abs_tol=SLACK_M2)
    # nesting: each community is exactly the union of its grids (the others did not change)
    changed = set(result.communities) | set(g2["parent"][g2["code"].isin(result.grids)])
    old = dict(zip(before.grids1["code"], before.grids1.geometry, strict=True))
    for code, g in zip(after.grids1["code"], after.grids1.geometry, strict=True):
        kids = geoms[(g2["parent"] == code).to_numpy()]
        assert len(kids), code
        if code in changed:
            assert geo.same(g, shapely.coverage_union_all(kids)), code
        else:
            assert g is old[code], code
    # every unit in exactly one existing grid, which holds it unless placed by hand
    where = dict(zip(codes, geoms, strict=True))
    units = after.units
    assert set(units["grid"]) <= set(codes)
    free = (
        units[OVERRIDE].isna().to_numpy()
        if OVERRIDE in units.columns
        else np.ones(len(units), bool)
    )
    homes = np.array([where[c] for c in units["grid"]], dtype=object)
    assert (shapely.distance(homes[free], units.geometry.to_numpy()[free]) < 1e-9).all()
    assert list(units["code"]) == list(before.units["code"])
    # what the result names
    assert set(result.created) <= set(codes)
    assert not set(result.retired) & set(codes)
    assert not set(result.created) & (set(before.grids2["code"]) | set(retired))
    assert set(result.touched) <= set(codes)
    # the incremental check: no error, and the same findings as the full validator
    local = check_edit(after, result)
    assert local.ok, local.format_text()
    if full:
        report = validate(after)
        multipart = [f for f in report.errors if f.check == "multipart"]
        assert len(report.errors) == len(multipart), report.format_text()
        diff = agreement(
            after,
            result.grids,
            communities=result.communities,
            units=result.units,
            full=report,
            ours=local,
        )
        assert diff == {"only_check": [], "only_full": []}


# ---------------------------------------------------------------------- random edits
def split_edit(d: District, k: int, f: float, j: int, angle: float) -> Split:
    """A straight cut through a point between a grid's interior point and one of its vertices."""
    code = d.grids2["code"].iloc[k % len(d.grids2)]
    g = d.grid2(code).geometry
    inner = ll2m(*shapely.get_coordinates(shapely.point_on_surface(g))[0])
    ring = shapely.get_coordinates(shapely.get_exterior_ring(shapely.get_geometry(g, 0)))
    vertex = ll2m(*ring[j % (len(ring) - 1)])
    p = inner + f * (vertex - inner)
    u = np.array([math.cos(angle), math.sin(angle)]) * 3000
    return Split(code, [m2ll(*(p - u)), m2ll(*(p + u))])


def merge_edit(d: District, k: int, m: int) -> Merge | None:
    code = d.grids2["code"].iloc[k % len(d.grids2)]
    near = neighbours(d, code, same_community=True)
    return Merge((code, near[m % len(near)])) if near else None


def interior_vertices(d: District, code: str) -> np.ndarray:
    xy = shapely.get_coordinates(d.grid2(code).geometry)
    rim = shapely.boundary(d.outline)
    keep = shapely.distance(shapely.points(xy), rim) > 1e-6
    return xy[keep]


def drag_edit(d: District, k: int, j: int, dist: float, angle: float) -> DragVertex | None:
    code = d.grids2["code"].iloc[k % len(d.grids2)]
    xy = interior_vertices(d, code)
    if not len(xy):
        return None
    v = xy[j % len(xy)]
    p = ll2m(*v) + dist * np.array([math.cos(angle), math.sin(angle)])
    return DragVertex(tuple(v), m2ll(*p))


def edge_edit(
    d: District, k: int, m: int, t1: float, t2: float, dist: float, angle: float
) -> DragEdge | None:
    """A run of the boundary of a grid and a neighbour, between the vertices at two fractions of
    the shared line (off the outline), dragged ``dist`` metres towards ``angle``."""
    code = d.grids2["code"].iloc[k % len(d.grids2)]
    near = neighbours(d, code)
    if not near:
        return None
    other = near[m % len(near)]
    edge = geo.shared_edge(d.grid2(code).geometry, d.grid2(other).geometry)
    edge = max(shapely.get_parts(edge), key=lambda e: e.length)
    xy = shapely.get_coordinates(edge)
    inner = xy[shapely.distance(shapely.points(xy), shapely.boundary(d.outline)) > 1e-6]
    if len(inner) < 2:
        return None
    a, b = int(t1 * (len(inner) - 1)), int(t2 * (len(inner) - 1))
    if a == b or (inner[a] == inner[b]).all():
        return None
    off = (dist * math.cos(angle), dist * math.sin(angle))
    return DragEdge(code, tuple(inner[a]), tuple(inner[b]), off, neighbour=other)


def boundary_edit(
    d: District, k: int, m: int, t1: float, t2: float, off: float
) -> MoveBoundary | None:
    """A dent of ``off`` metres into one side of a stretch of the boundary of two neighbours."""
    code = d.grids2["code"].iloc[k % len(d.grids2)]
    near = neighbours(d, code)
    if not near:
        return None
    other = near[m % len(near)]
    edge = geo.shared_edge(d.grid2(code).geometry, d.grid2(other).geometry)
    edge = max(shapely.get_parts(edge), key=lambda e: e.length)
    edge_m = geo.metres(edge)
    a, b = sorted((t1, t2))
    if b - a < 0.05:
        return None
    p = shapely.line_interpolate_point(edge, a, normalized=True)
    q = shapely.line_interpolate_point(edge, b, normalized=True)
    mid = (a + b) / 2
    m1 = np.array(
        shapely.get_coordinates(
            shapely.line_interpolate_point(edge_m, mid - 0.01, normalized=True)
        )[0]
    )
    m2 = np.array(
        shapely.get_coordinates(
            shapely.line_interpolate_point(edge_m, mid + 0.01, normalized=True)
        )[0]
    )
    t = m2 - m1
    n = np.array([-t[1], t[0]]) / np.hypot(*t)
    o = (m1 + m2) / 2 + off * n
    return MoveBoundary(
        [tuple(shapely.get_coordinates(p)[0]), m2ll(*o), tuple(shapely.get_coordinates(q)[0])],
        codes=(code, other),
    )


def community_edit(d: District, k: int, m: int) -> MoveGridToCommunity | None:
    code = d.grids2["code"].iloc[k % len(d.grids2)]
    near = neighbours(d, code, same_community=False)
    if not near:
        return None
    return MoveGridToCommunity(code, d.grid2(near[m % len(near)])["parent"])


#: Why a random edit may be refused (any other refusal fails the test).
REFUSALS = {
    "split": ("parts: a split makes two", "does not cut grid", "too small for a grid"),
    "merge": (),
    "drag_vertex": ("would make grid", "would break the edges"),
    "drag_edge": ("would make grid", "would break the edges", "district outline"),
    "move_boundary": (
        "leaves grids",
        "would leave grid",
        "beyond its own ends",
        "crosses itself",
        "must leave the boundary and come back to it",
    ),  # a line along the edge
    "move_grid": ("is the only grid of community",),
}


def attempt(d: District, edit, retired=()):
    """Apply an edit; ``None`` if it is refused for one of its kind's expected reasons."""
    if edit is None:
        return None
    try:
        return edit.apply(d, retired=retired)
    except InputError as exc:
        assert any(r in exc.message for r in REFUSALS[edit.kind]), exc.message
        return None


_frac = st.floats(0.0, 1.0)
_angle = st.floats(0.0, 2 * math.pi)
_idx = st.integers(0, 10_000)


# ====================================================================== property tests
@PROPS
@given(k=_idx, f=st.floats(0.0, 0.9), j=_idx, angle=_angle)
def test_random_splits_keep_a_valid_coverage(k, f, j, angle):
    edit = split_edit(SAMPLE, k, f, j, angle)
    done = attempt(SAMPLE, edit)
    if done is None:
        return
    after, result = done
    assert len(result.created) == 2 and result.retired == (edit.code,)
    assert len(after.grids2) == len(SAMPLE.grids2) + 1
    parent = SAMPLE.grid2(edit.code)["parent"]
    assert all(after.grid2(c)["parent"] == parent for c in result.created)
    areas = [geo.area_m2(after.grid2(c).geometry) for c in result.created]
    assert math.isclose(sum(areas), geo.area_m2(SAMPLE.grid2(edit.code).geometry), abs_tol=SLACK_M2)
    assert_sound(SAMPLE, after, result)


@PROPS
@given(k=_idx, m=_idx)
def test_random_merges_keep_a_valid_coverage(k, m):
    edit = merge_edit(SAMPLE, k, m)
    done = attempt(SAMPLE, edit)
    if done is None:
        return
    after, result = done
    keep, gone = edit.codes
    assert result.retired == (gone,) and keep in result.touched
    before_units = SAMPLE.units["grid"].isin(edit.codes).sum()
    assert (after.units["grid"] == keep).sum() == before_units
    assert_sound(SAMPLE, after, result)


@PROPS
@given(k=_idx, j=_idx, dist=st.floats(0.3, 30.0), angle=_angle)
def test_random_vertex_drags_keep_a_valid_coverage(k, j, dist, angle):
    edit = drag_edit(SAMPLE, k, j, dist, angle)
    done = attempt(SAMPLE, edit)
    if done is None:
        return
    after, result = done
    target = geo.on_grid(shapely.Point(edit.target))
    for code in result.touched:  # every grid that had the vertex has it at the target
        xy = shapely.get_coordinates(after.grid2(code).geometry)
        assert (xy == shapely.get_coordinates(target)[0]).all(axis=1).any()
        assert not (xy == np.array(edit.source)).all(axis=1).any()
    assert_sound(SAMPLE, after, result)


@PROPS
@given(k=_idx, m=_idx, t1=_frac, t2=_frac, dist=st.floats(0.3, 30.0), angle=_angle)
def test_random_edge_drags_keep_a_valid_coverage(k, m, t1, t2, dist, angle):
    edit = edge_edit(SAMPLE, k, m, t1, t2, dist, angle)
    done = attempt(SAMPLE, edit)
    if done is None:
        return
    after, result = done
    assert {edit.code, edit.neighbour} <= set(result.touched)  # both sides follow
    assert not result.created and not result.retired
    for code in result.touched:  # the run's start is gone from every grid that had it
        xy = shapely.get_coordinates(after.grid2(code).geometry)
        assert not (xy == np.array(edit.start)).all(axis=1).any()
    assert_sound(SAMPLE, after, result)


@PROPS
@given(
    k=_idx, m=_idx, t1=_frac, t2=_frac, off=st.floats(-80.0, 80.0).filter(lambda x: abs(x) > 0.5)
)
def test_random_boundary_moves_keep_a_valid_coverage(k, m, t1, t2, off):
    edit = boundary_edit(SAMPLE, k, m, t1, t2, off)
    done = attempt(SAMPLE, edit)
    if done is None:
        return
    after, result = done
    a, b = edit.codes
    gained = geo.area_m2(after.grid2(a).geometry) - geo.area_m2(SAMPLE.grid2(a).geometry)
    lost = geo.area_m2(after.grid2(b).geometry) - geo.area_m2(SAMPLE.grid2(b).geometry)
    assert abs(gained + lost) < SLACK_M2  # what one gains the other loses
    assert abs(gained) > 0
    assert_sound(SAMPLE, after, result)


_step = st.one_of(
    st.tuples(st.just("split"), _idx, st.floats(0.0, 0.9), _idx, _angle),
    st.tuples(st.just("merge"), _idx, _idx),
    st.tuples(st.just("drag"), _idx, _idx, st.floats(0.3, 30.0), _angle),
    st.tuples(st.just("boundary"), _idx, _idx, _frac, _frac, st.floats(-60.0, 60.0)),
    st.tuples(st.just("community"), _idx, _idx),
    st.tuples(st.just("edge"), _idx, _idx, _frac, _frac, st.floats(0.3, 30.0), _angle),
)
_MAKE = {
    "split": split_edit,
    "merge": merge_edit,
    "drag": drag_edit,
    "boundary": boundary_edit,
    "community": community_edit,
    "edge": edge_edit,
}


@PROPS
@given(steps=st.lists(_step, min_size=2, max_size=8))
def test_random_edit_sequences_keep_a_valid_coverage(steps):
    """Edits on edits, as a draft grows: each checked incrementally, the last one in full; the
    draft replayed from its stored edits gives the same district."""
    d, retired, done_edits = SAMPLE, set(), []
    for kind, *args in steps:
        edit = _MAKE[kind](d, *args)
        done = attempt(d, edit, retired)
        if done is None:
            continue
        after, result = done
        assert_sound(d, after, result, retired, full=False)
        retired |= set(result.retired)
        done_edits.append(json.dumps(edit.to_dict()))
        d = after
    if not done_edits:
        return
    report = validate(d)
    assert all(f.check == "multipart" for f in report.errors), report.format_text()
    assert agreement(d, full=report) == {"only_check": [], "only_full": []}
    # replay
    r, retired = SAMPLE, set()
    for text in done_edits:
        r, result = edit_from_dict(json.loads(text)).apply(r, retired=retired)
        retired |= set(result.retired)
    assert list(r.grids2["code"]) == list(d.grids2["code"])
    assert all(shapely.equals_exact(r.grids2.geometry.to_numpy(), d.grids2.geometry.to_numpy(), 0))
    assert list(r.units["grid"]) == list(d.units["grid"])


# ====================================================================== a hand-checked lattice
X0, Y0 = (round(v) for v in to_metric(118.93, 32.11))
P1, P2 = "320113005001", "320113005002"


def lattice() -> District:
    """3 × 2 squares of 500 m: columns 0-1 are community P1, column 2 is P2; grids numbered in
    reading order. Units and workers at known places."""
    cells, rows = [], []
    for r in (1, 0):  # north row first
        for c in range(3):
            parent = P1 if c < 2 else P2
            seq = (1 - r) * (2 if c < 2 else 1) + (c % 2 if c < 2 else 0) + 1
            code = f"{parent}{seq:03d}"
            cells.append(box(X0 + c * 500, Y0 + r * 500, X0 + (c + 1) * 500, Y0 + (r + 1) * 500))
            rows.append(
                {"code": code, "name": f"grid {code[-3:]}", "parent": parent, "kind": "住宅",
                 "worker": f"worker {code[-4:]}", "worker_phone": "13900000000"}
            )  # fmt: skip
    geoms = [geo.on_grid(g) for g in geometry_from_metric(np.array(cells, dtype=object))]
    g2 = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=LAYER_COLUMNS["grids2"]), geometry=geoms, crs=4326
    )
    g1_rows, g1_geoms = [], []
    for p in (P1, P2):
        g1_rows.append({"code": p, "name": f"community {p[-3:]}", "parent": "320113005"})
        g1_geoms.append(
            shapely.coverage_union_all(
                np.array(geoms, dtype=object)[(g2["parent"] == p).to_numpy()]
            )
        )
    g1 = gpd.GeoDataFrame(
        pd.DataFrame(g1_rows, columns=LAYER_COLUMNS["grids1"]), geometry=g1_geoms, crs=4326
    )
    units = [  # (code, metric x, y from the lattice's corner, grid)
        ("U1", 550, 750, P1 + "002"),  # in the dent that moves from 002 to 001
        ("U2", 650, 750, P1 + "002"),  # beside it, stays
        ("U3", 250, 250, P1 + "003"),
        ("U4", 1250, 750, P2 + "001"),
    ]
    u_rows = [
        {"code": c, "name": c, "category": "商铺", "grid": g, "households": 10, "residents": 25}
        for c, _, _, g in units
    ]
    u_geoms = [shapely.Point(m2ll(X0 + x, Y0 + y)) for _, x, y, _ in units]
    u = gpd.GeoDataFrame(
        pd.DataFrame(u_rows, columns=LAYER_COLUMNS["units"]), geometry=u_geoms, crs=4326
    )
    u["households"] = pd.array(u["households"], dtype="Int64")
    u["residents"] = pd.array(u["residents"], dtype="Int64")
    outline = shapely.coverage_union_all(np.array(geoms, dtype=object))
    return District("320113005", "lattice", g1, g2, u, outline)


def test_lattice_is_a_valid_district():
    d = lattice()
    assert validate(d).ok
    assert list(d.grids2["code"]) == [
        P1 + "001",
        P1 + "002",
        P2 + "001",
        P1 + "003",
        P1 + "004",
        P2 + "002",
    ]


def test_impact_of_a_moved_boundary_hand_checked():
    """Grid 001 (north-west) takes a 100 m × 300 m dent out of grid 002 (north-middle)."""
    d = lattice()
    a, b = P1 + "001", P1 + "002"
    line = [
        m2ll(X0 + 500, Y0 + 600),
        m2ll(X0 + 600, Y0 + 600),
        m2ll(X0 + 600, Y0 + 900),
        m2ll(X0 + 500, Y0 + 900),
    ]
    after, result = MoveBoundary(line).apply(d)
    assert result.touched == (a, b) and result.units == ("U1",)
    assert result.communities == ()  # both grids are in P1: its outline does not change
    assert_sound_lattice(d, after, result)
    incidents = [
        (1, *m2ll(X0 + 520, Y0 + 610), b),  # in the dent: now in a
        (2, *m2ll(X0 + 700, Y0 + 700), b),  # stays
        (3, *m2ll(X0 + 550, Y0 + 950), b),  # north of the dent: stays
        (4, *m2ll(X0 + 100, Y0 + 100), P1 + "003"),
    ]
    im = impact(d, after, open_incidents=incidents)
    assert [
        (u["code"], u["from_grid"], u["to_grid"], u["from_worker"], u["to_worker"])
        for u in im["units"]
    ] == [("U1", b, a, "worker 1002", "worker 1001")]
    grids = {g["code"]: g for g in im["grids"]}
    assert set(grids) == {a, b}
    assert grids[a]["area_change_m2"] == pytest.approx(30_000, abs=5)
    assert grids[b]["area_change_m2"] == pytest.approx(-30_000, abs=5)
    assert grids[a]["area_before_m2"] == pytest.approx(250_000, abs=5)
    assert grids[a]["status"] == grids[b]["status"] == "changed"
    assert [(t["from"], t["to"]) for t in im["transfers"]] == [(b, a)]
    dent = geometry_from_metric(box(X0 + 500, Y0 + 600, X0 + 600, Y0 + 900))
    assert geo.area_m2(shapely.symmetric_difference(im["transfers"][0]["geometry"], dent)) < 5
    assert geo.area_m2(shapely.symmetric_difference(grids[a]["geometry"], dent)) < 5
    assert [(i["id"], i["from_grid"], i["to_grid"], i["to_worker"]) for i in im["incidents"]] == [
        (1, b, a, "worker 1001")
    ]
    assert im["summary"]["area_m2"] == pytest.approx(30_000, abs=5)
    fc = to_geojson(im)
    assert [f["properties"]["from"] for f in fc["features"]] == [b]
    json.dumps(fc)


def assert_sound_lattice(before, after, result):
    assert shapely.coverage_is_valid(after.grids2.geometry.to_numpy())
    assert validate(after).ok
    assert check_edit(after, result).ok
    assert agreement(after) == {"only_check": [], "only_full": []}
    for code, g in zip(after.grids1["code"], after.grids1.geometry, strict=True):
        kids = after.grids2.geometry[after.grids2["parent"] == code].to_numpy()
        assert geo.same(g, shapely.coverage_union_all(kids))


def test_moving_a_grid_to_another_community_rebuilds_both_outlines():
    d = lattice()
    code = P1 + "002"  # north-middle, beside P2's north grid
    after, result = MoveGridToCommunity(code, P2).apply(d)
    (new,) = result.created
    assert new == P2 + "003"  # after P2's 001 and 002
    assert result.retired == (code,) and result.recoded == ((code, new),)
    assert result.communities == (P1, P2)
    assert after.grid2(new)["parent"] == P2 and after.grid2(new)["worker"] == "worker 1002"
    assert after.units.set_index("code").loc[["U1", "U2"], "grid"].tolist() == [new, new]
    assert geo.area_m2(after.grid1(P2).geometry) == pytest.approx(750_000, abs=5)
    assert geo.area_m2(after.grid1(P1).geometry) == pytest.approx(750_000, abs=5)
    assert_sound_lattice(d, after, result)
    im = impact(d, after)
    assert im["recoded"] == [{"from": code, "to": new}] and im["transfers"] == []
    assert {u["code"] for u in im["units"]} == {"U1", "U2"}


def test_an_exclave_is_a_notice_unless_exclaves_are_forbidden():
    """A dent across the whole north-middle grid leaves it in two parts."""
    d = lattice()
    b = P1 + "002"
    line = [
        m2ll(X0 + 500, Y0 + 600),
        m2ll(X0 + 1000, Y0 + 600),
        m2ll(X0 + 1000, Y0 + 700),
        m2ll(X0 + 500, Y0 + 700),
    ]
    after, result = MoveBoundary(line).apply(d)
    assert after.grid2(b).geometry.geom_type == "MultiPolygon"
    report = check_edit(after, result)
    assert report.ok
    assert [(f.check, f.codes) for f in report.notices] == [("multipart", (b,))]
    assert "exclave" in report.notices[0].message
    strict = check_edit(after, result, allow_exclaves=False)
    assert [(f.check, f.codes) for f in strict.errors] == [("multipart", (b,))]
    assert agreement(after) == {"only_check": [], "only_full": []}
    assert agreement(after, allow_exclaves=False) == {"only_check": [], "only_full": []}


def test_a_unit_moved_by_hand_stays_through_geometry_edits():
    d = lattice()
    a, b = P1 + "001", P1 + "002"
    after, result = MoveUnit("U2", a, "served from the north-west office").apply(d)
    assert result.units == ("U2",)
    assert after.units.set_index("code").loc["U2", OVERRIDE] == "served from the north-west office"
    report = check_edit(after, result)
    assert report.ok
    assert [(f.check, f.codes[0]) for f in report.notices] == [("unit-grid-mismatch", "U2")]
    assert "by hand: served from the north-west office" in report.notices[0].message
    assert agreement(after) == {"only_check": [], "only_full": []}
    # a cut of the grid it stands in leaves it where the planner put it
    line = [m2ll(X0 + 800, Y0 + 1100), m2ll(X0 + 800, Y0 + 400)]
    cut, res = Split(b, line).apply(after)
    assert cut.units.set_index("code").loc["U2", "grid"] == a
    assert cut.units.set_index("code").loc["U1", "grid"] in res.created
    # the grid it was put in is split: the override is dropped, with a note
    line = [m2ll(X0 + 250, Y0 + 1100), m2ll(X0 + 250, Y0 + 400)]
    gone, res = Split(a, line).apply(after)
    assert gone.units.set_index("code").loc["U2", "grid"] == b
    assert gone.units.set_index("code").loc["U2", OVERRIDE] is None
    assert any("U2" in n and "follows the geometry" in n for n in res.notes)
    # moving it back to where it stands ends the override
    back, res = MoveUnit("U2", b, "back").apply(after)
    assert back.units.set_index("code").loc["U2", OVERRIDE] is None
    assert validate(back).ok


def test_split_numbers_new_grids_in_reading_order_and_never_reuses_a_retired_code():
    d = lattice()
    code = P1 + "002"
    vertical = [m2ll(X0 + 750, Y0 + 1100), m2ll(X0 + 750, Y0 + 400)]
    after, result = Split(code, vertical).apply(d, retired={P1 + "005", P1 + "009"})
    assert result.created == (P1 + "010", P1 + "011")
    west, east = (after.grid2(c).geometry for c in result.created)
    assert west.centroid.x < east.centroid.x  # side by side: west first
    assert after.grid2(P1 + "010")["name"] == "community 001第10网格"
    assert after.grid2(P1 + "010")["worker"] is None
    horizontal = [m2ll(X0 + 450, Y0 + 800), m2ll(X0 + 1050, Y0 + 800)]
    after, result = Split(code, horizontal).apply(d)
    north, south = (after.grid2(c).geometry for c in result.created)
    assert north.centroid.y > south.centroid.y  # one above the other: north first
    # the neighbours gained the cut's ends as vertices, so edges still match
    assert set(result.touched) == {P1 + "001", P2 + "001"}
    assert_sound_lattice(d, after, result)
    assert next_codes(d, P1, {P1 + "997", P1 + "999"}, 2) == [P1 + "005", P1 + "006"]


def test_merge_keeps_the_first_code_and_its_worker():
    d = lattice()
    after, result = Merge((P1 + "002", P1 + "001")).apply(d)
    assert result.touched == (P1 + "002",) and result.retired == (P1 + "001",)
    assert after.grid2(P1 + "002")["worker"] == "worker 1002"
    assert geo.area_m2(after.grid2(P1 + "002").geometry) == pytest.approx(500_000, abs=5)
    assert set(after.units["grid"]) == {P1 + "002", P1 + "003", P2 + "001"}
    assert_sound_lattice(d, after, result)


def test_dragging_a_shared_vertex_moves_it_in_every_grid():
    d = lattice()
    corner = m2ll(X0 + 500, Y0 + 500)  # shared by four grids
    xy = geo.on_grid(shapely.Point(corner)).coords[0]
    after, result = DragVertex(xy, m2ll(X0 + 530, Y0 + 520)).apply(d)
    assert set(result.touched) == {P1 + "001", P1 + "002", P1 + "003", P1 + "004"}
    assert_sound_lattice(d, after, result)
    assert sum(geo.area_m2(after.grid2(c).geometry) for c in result.touched) == pytest.approx(
        1e6, abs=1
    )


def test_dragging_a_whole_edge_moves_every_vertex_of_it_hand_checked():
    """The 500 m edge between 001.002 (north) and 001.004 (south), both ends interior corners,
    dragged 10 m north: 002 loses 500 × 10 m² and 004 gains it; the grids meeting at the ends
    follow (each end's corner moves, a 2,500 m² triangle changes sides on either end)."""
    d = lattice()
    west = geo.on_grid(shapely.Point(m2ll(X0 + 500, Y0 + 500))).coords[0]
    east = geo.on_grid(shapely.Point(m2ll(X0 + 1000, Y0 + 500))).coords[0]
    after, result = DragEdge(P1 + "002", west, east, (0.0, 10.0)).apply(d)

    def change(code):
        return geo.area_m2(after.grid2(code).geometry) - geo.area_m2(d.grid2(code).geometry)

    assert change(P1 + "002") == pytest.approx(-5_000, abs=5)
    assert change(P1 + "004") == pytest.approx(5_000, abs=5)
    assert change(P1 + "001") == pytest.approx(-2_500, abs=5)
    assert change(P1 + "003") == pytest.approx(2_500, abs=5)
    assert change(P2 + "001") == pytest.approx(-2_500, abs=5)
    assert change(P2 + "002") == pytest.approx(2_500, abs=5)
    assert set(result.touched) == set(d.grids2["code"]) and result.communities == (P1, P2)
    ex, ey = ll2m(*east)
    north = geo.on_grid(shapely.Point(m2ll(ex, ey + 10))).coords[0]  # the east end, moved
    for code in (P1 + "002", P1 + "004", P2 + "001", P2 + "002"):
        xy = shapely.get_coordinates(after.grid2(code).geometry)
        assert (xy == np.array(north)).all(axis=1).any(), code
    assert_sound_lattice(d, after, result)


def test_dragging_one_segment_of_a_longer_edge():
    """A run of one segment in the middle of a shared edge of many vertices: only its two
    vertices move, the rest of the edge stays, both grids follow."""
    a, b, edge = _edge_pair()
    xy = shapely.get_coordinates(edge)
    k = len(xy) // 2
    after, result = DragEdge(a, tuple(xy[k]), tuple(xy[k + 1]), (3.0, -2.0)).apply(SAMPLE)
    assert {a, b} <= set(result.touched)
    moved = shapely.get_coordinates(
        geo.shared_edge(after.grid2(a).geometry, after.grid2(b).geometry)
    )
    kept = {tuple(v) for v in moved}
    assert tuple(xy[k]) not in kept and tuple(xy[k + 1]) not in kept
    assert tuple(xy[k - 1]) in kept and tuple(xy[k + 2]) in kept
    assert_sound(SAMPLE, after, result)


def test_attribute_edits():
    d = lattice()
    after, result = Rename(P1 + "001", "仙鹤门").apply(d)
    assert after.grid2(P1 + "001")["name"] == "仙鹤门" and result.touched == (P1 + "001",)
    after, result = Rename(P1, "新社区").apply(d)
    assert after.grid1(P1)["name"] == "新社区" and result.communities == (P1,)
    after, result = SetWorker(P1 + "001", "张三", "139 0000 1111").apply(d)
    assert after.grid2(P1 + "001")[["worker", "worker_phone"]].tolist() == ["张三", "139 0000 1111"]
    after, result = SetWorker(P1 + "001", None).apply(d)
    assert after.grid2(P1 + "001")["worker"] is None
    after, result = Recode(P1 + "001", P1 + "007").apply(d)
    assert result.recoded == ((P1 + "001", P1 + "007"),)
    assert after.grid2(P1 + "007")["worker"] == "worker 1001"
    assert validate(after).ok
    assert d.grid2(P1 + "001")["name"] == "grid 001"  # the input district never changes


# ====================================================================== refusals
def _edge_pair():
    a, b = "320113005001001", "320113005001002"
    edge = geo.shared_edge(SAMPLE.grid2(a).geometry, SAMPLE.grid2(b).geometry)
    return a, b, edge


def _point(geom, t):
    return tuple(
        shapely.get_coordinates(shapely.line_interpolate_point(geom, t, normalized=True))[0]
    )


def _bad_edits():
    a, b, edge = _edge_pair()
    ga = SAMPLE.grid2(a).geometry
    rim = shapely.get_exterior_ring(ga)
    centre = tuple(shapely.get_coordinates(shapely.point_on_surface(ga))[0])
    far = (118.99, 32.149)
    outline_vertex = tuple(shapely.get_coordinates(SAMPLE.outline)[0])
    inner = tuple(interior_vertices(SAMPLE, a)[5])
    corner = next(  # a vertex of grid a with a narrow angle would do; any convex one is enough
        tuple(v) for v in shapely.get_coordinates(rim)[1:] if tuple(v) != outline_vertex
    )
    border = next(c for c in CODES if neighbours(SAMPLE, c, same_community=False))
    other_community = neighbours(SAMPLE, border, same_community=False)[0]
    distant = next(
        c for c in CODES if c[:12] == a[:12] and c not in neighbours(SAMPLE, a) and c != a
    )
    unit = SAMPLE.units["code"].iloc[0]
    p, q = _point(edge, 0.3), _point(edge, 0.6)
    edge_xy = [tuple(v) for v in shapely.get_coordinates(edge)]
    p_v, q_v = edge_xy[len(edge_xy) // 3], edge_xy[2 * len(edge_xy) // 3]
    tri = shapely.get_coordinates(rim)
    del corner, tri
    return [
        (Split("320113005001999", [far, centre]), "no second-level grid with code 320113005001999"),
        (Split(a, [(118.99, 32.149), (118.991, 32.148)]), "does not cross grid"),
        (Split(a, [_point(rim, 0.1), centre]), "does not cut grid"),
        (Split(a, _zigzag(ga)), "parts: a split makes two"),
        (Split(a, _corner_cut(ga)), "too small for a grid"),
        (Merge((border, other_community)), "different communities"),
        (Merge((a, distant)), "not neighbours"),
        (Merge((a, "320113005001999")), "no second-level grid with code"),
        (DragVertex(far, far), "no grid vertex within"),
        (DragVertex(outline_vertex, centre), "district outline"),
        (DragVertex(inner, inner), "already there"),
        (DragVertex(inner, far), "moving the vertex there would make grid"),
        (DragEdge(a, p_v, q_v, (5000.0, 0.0)), "moving the edge there would make grid"),
        (DragEdge(a, p_v, p_v, (5.0, 0.0)), "the same vertex"),
        (DragEdge(a, centre, far, (5.0, 0.0)), "must be two vertices"),
        (DragEdge(a, p_v, q_v, (5.0, 0.0), neighbour=distant), "shares with grid"),
        (DragEdge(a, edge_xy[0], edge_xy[1], (5.0, 0.0)), "district outline"),
        (DragEdge(a, p_v, q_v, (0.001, 0.0)), "already there"),
        (MoveBoundary([centre, far]), "must start and end on the boundary shared"),
        (MoveBoundary([p, far, q]), "leaves grids"),
        (MoveBoundary([p, q], codes=(a, distant)), "are not neighbours"),
        (MoveBoundary(_along(edge, 0.3, 0.6)), "does not move the boundary"),
        (MoveGridToCommunity(a, a[:12]), "already in community"),
        (MoveGridToCommunity(a, "320113005099"), "no first-level grid"),
        (MoveGridToCommunity(a, _distant_community(a)), "does not touch community"),
        (MoveUnit("nope", a, "why"), "no unit with code nope"),
        (MoveUnit(unit, "320113005001999", "why"), "no second-level grid"),
        (MoveUnit(unit, SAMPLE.units["grid"].iloc[0], "why"), "already in grid"),
        (Rename("320113005999", "x"), "no grid or community with code 320113005999"),
        (Rename(a, SAMPLE.grid2(a)["name"]), "already named"),
        (Recode(a, "320113005002050"), "does not follow the numbering rule"),
        (Recode(a, b), "already in use"),
        (
            SetWorker(a, SAMPLE.grid2(a)["worker"], SAMPLE.grid2(a)["worker_phone"]),
            "already has that worker",
        ),
    ]


def _along(edge, a, b):
    """The stretch of a boundary between two fractions of its length, vertex for vertex."""
    part = shapely.ops.substring(edge, a, b, normalized=True)
    return [tuple(v) for v in shapely.get_coordinates(part)]


def _zigzag(g):
    """A line down, up and down again across a grid: it crosses it three times."""
    x0, y0, x1, y1 = g.bounds
    xs = x0 + (x1 - x0) * np.array([0.3, 0.4, 0.5, 0.6])
    n, s = y1 + 0.001, y0 - 0.001
    return [(xs[0], n), (xs[1], s), (xs[2], n), (xs[3], s)]


def _corner_cut(g):
    """A line cutting a sliver of well under 1 m² off a convex corner of a grid."""
    xy = shapely.get_coordinates(shapely.get_exterior_ring(g))[:-1]
    for k in range(len(xy)):
        v = ll2m(*xy[k])
        a, b = ll2m(*xy[k - 1]), ll2m(*xy[(k + 1) % len(xy)])
        da, db = (a - v) / np.linalg.norm(a - v), (b - v) / np.linalg.norm(b - v)
        if np.dot(da, db) < -0.5:  # flatter than 120°: not a corner
            continue
        s, t = v + 0.4 * da, v + 0.4 * db
        mid = (s + t) / 2
        if not g.contains(shapely.Point(m2ll(*mid))):
            continue
        u = (t - s) / np.linalg.norm(t - s)
        return [m2ll(*(s - 5 * u)), m2ll(*(t + 5 * u))]
    raise AssertionError("no convex corner")


def _distant_community(code):
    g = SAMPLE.grid2(code).geometry
    for c, h in zip(SAMPLE.grids1["code"], SAMPLE.grids1.geometry, strict=True):
        if c != code[:12] and not h.intersects(g):
            return c
    raise AssertionError


@pytest.mark.parametrize("edit, message", _bad_edits(), ids=lambda v: getattr(v, "kind", None))
def test_bad_edits_are_refused_with_their_reason(edit, message):
    before = SAMPLE.grids2.geometry.to_numpy().copy()
    with pytest.raises(InputError) as exc:
        edit.apply(SAMPLE, retired={"320113005001040"})
    assert message in exc.value.message, exc.value.message
    assert all(shapely.equals_exact(before, SAMPLE.grids2.geometry.to_numpy(), 0))


def test_recode_refuses_a_retired_code():
    with pytest.raises(InputError, match="retired: it is never reused"):
        Recode("320113005001001", "320113005001040").apply(SAMPLE, retired={"320113005001040"})


@pytest.mark.parametrize(
    "data, message",
    [
        ([], "an edit must be an object"),
        ({"kind": "erase"}, "unknown edit kind 'erase'"),
        ({"kind": "split", "code": "x"}, "edit split needs line"),
        ({"kind": "merge", "codes": ["a", "b"], "keep": "a"}, "edit merge has no field keep"),
        ({"kind": "merge", "codes": ["a"]}, "at least two different grids"),
        ({"kind": "merge", "codes": "ab"}, "codes must be a list of codes"),
        ({"kind": "split", "code": "x", "line": [[118.9, 32.1]]}, "at least two points"),
        (
            {"kind": "split", "code": "x", "line": [[118.9, 95], [118.9, 32]]},
            "lat 95.0 is out of range",
        ),
        ({"kind": "split", "code": "x", "line": [[118.9, "a"], [1, 2]]}, "is not a number"),
        ({"kind": "split", "code": "", "line": [[1, 2], [3, 4]]}, "code must be a non-empty code"),
        (
            {"kind": "drag_vertex", "source": [1], "target": [1, 2]},
            "source must be a [lon, lat] pair",
        ),
        (
            {"kind": "move_unit", "unit": "u", "grid": "g", "reason": "  "},
            "reason must not be empty",
        ),
        (
            {"kind": "set_worker", "code": "g", "name": "张三", "phone": "call me"},
            "is not a phone number",
        ),
        (
            {"kind": "set_worker", "code": "g", "name": None, "phone": "139"},
            "a phone needs a worker's name",
        ),
        ({"kind": "rename", "code": "g", "name": "x" * 201}, "too long"),
        (
            {"kind": "move_boundary", "line": [[1, 2], [3, 4]], "codes": ["a", "a"]},
            "two different grids",
        ),
        (
            {"kind": "drag_edge", "code": "g", "start": [1, 2], "end": [3, 4], "offset": "12"},
            "offset must be a [dx, dy] pair of metres",
        ),
        (
            {"kind": "drag_edge", "code": "g", "start": [1, 2], "end": [3, 4], "offset": [1, "x"]},
            "offset must be a [dx, dy] pair of metres",
        ),
        (
            {"kind": "drag_edge", "code": "g", "start": [1, 2], "end": [3, 4], "offset": [9e3, 0]},
            "at most",
        ),
        (
            {
                "kind": "drag_edge",
                "code": "g",
                "start": [1, 2],
                "end": [3, 4],
                "offset": [1, 0],
                "neighbour": "g",
            },
            "another grid",
        ),  # fmt: skip
        ({"kind": "drag_edge", "code": "g", "start": [1, 2], "end": [3, 4]}, "needs offset"),
    ],
)
def test_malformed_edits_are_refused(data, message):
    with pytest.raises(InputError) as exc:
        edit_from_dict(data)
    assert message in exc.value.message, exc.value.message


def test_a_line_that_crosses_itself_is_refused():
    a, b, edge = _edge_pair()
    p, q = _point(edge, 0.2), _point(edge, 0.8)
    loop = [p, (q[0] + 0.001, q[1]), (p[0] + 0.001, p[1]), q]
    with pytest.raises(InputError, match="crosses itself"):
        MoveBoundary(loop).apply(SAMPLE)


def test_every_edit_kind_round_trips_through_json():
    a, b, edge = _edge_pair()
    edits = [
        MoveBoundary([_point(edge, 0.2), _point(edge, 0.5), _point(edge, 0.8)], codes=(a, b)),
        split_edit(SAMPLE, 3, 0.2, 5, 1.0),
        Merge((a, b)),
        DragVertex((118.9, 32.1), (118.91, 32.11)),
        MoveGridToCommunity(a, "320113005002"),
        MoveUnit("u", a, "reason"),
        Rename(a, "name"),
        Recode(a, "320113005001099"),
        SetWorker(a, "张三", "13900000000"),
        DragEdge(a, (118.9, 32.1), (118.91, 32.11), (3.5, -2.0), neighbour=b),
        ReplaceGrids(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": a, "name": "甲"},
                        "geometry": json.loads(shapely.to_geojson(SAMPLE.grid2(a).geometry)),
                    }
                ],
            },
            source="grids.geojson",
        ),
    ]
    assert {type(e) for e in edits} == set(EDITS)
    for e in edits:
        again = edit_from_dict(json.loads(json.dumps(e.to_dict())))
        assert again == e
        assert e.__hash__ is None or hash(again) == hash(e)  # a layer (dicts) is not hashable
        assert again.to_dict()["kind"] == e.kind


# ====================================================================== the incremental check
def _broken(**changes):
    """The sample with some grids, or some units' grids, replaced."""
    g2 = SAMPLE.grids2.copy()
    units = SAMPLE.units
    for code, value in changes.get("geoms", {}).items():
        g2.loc[g2["code"] == code, "geometry"] = value
    for code, parent in changes.get("parents", {}).items():
        g2.loc[g2["code"] == code, "parent"] = parent
    if "drop" in changes:
        g2 = g2[~g2["code"].isin(changes["drop"])]
    if "units" in changes:
        units = units.copy()
        for code, grid in changes["units"].items():
            units.loc[units["code"] == code, "grid"] = grid
    if "dup" in changes:
        old, new = changes["dup"]
        g2.loc[g2["code"] == old, "code"] = new
    return District(
        SAMPLE.code, SAMPLE.name, SAMPLE.grids1, g2.reset_index(drop=True), units, SAMPLE.outline
    )


def _pushed(code: str, metres: float):
    """Grid ``code`` with one interior vertex moved, its neighbours left behind."""
    g = SAMPLE.grid2(code).geometry
    v = interior_vertices(SAMPLE, code)[3]
    p = ll2m(*v)
    c = ll2m(*shapely.get_coordinates(shapely.point_on_surface(g))[0])
    target = m2ll(*(p + metres * (p - c) / np.linalg.norm(p - c)))

    def move(xy):
        xy = xy.copy()
        xy[(xy == v).all(axis=1)] = target
        return xy

    return shapely.transform(g, move)


A = "320113005001001"


@pytest.mark.parametrize(
    "name, district, codes, checks",
    [
        ("overlap", lambda: _broken(geoms={A: _pushed(A, 8.0)}), [A], {"overlap"}),
        ("gap", lambda: _broken(geoms={A: _pushed(A, -8.0)}), [A], {"gap"}),
        ("narrow gap", lambda: _broken(geoms={A: _pushed(A, -0.3)}), [A], {"gap"}),
        (
            "missing grid",
            lambda: _broken(drop=[A]),
            [A, *neighbours(SAMPLE, A)],
            {"gap", "unit-outside"},
        ),
        (
            "wrong parent",
            lambda: _broken(parents={A: "320113005002"}),
            [A],
            {"outside-parent"},
        ),
        (
            "unit in another grid",
            lambda: _broken(units={SAMPLE.units["code"].iloc[0]: "320113005005005"}),
            ["320113005005005"],
            {"unit-grid-mismatch"},
        ),
        ("duplicate code", lambda: _broken(dup=("320113005001002", A)), [A], {"duplicate-code"}),
    ],
)
def test_the_incremental_check_finds_what_the_full_validator_finds(name, district, codes, checks):
    d = district()
    local = check_grids(d, codes)
    assert {f.check for f in local.errors} >= checks, local.format_text()
    for f in local.errors:
        assert f.geometry is None or f.geometry.is_valid
    assert agreement(d, codes) == {"only_check": [], "only_full": []}
    assert agreement(d) == {"only_check": [], "only_full": []}


def test_findings_carry_their_geometry_in_wgs84():
    d = _broken(geoms={A: _pushed(A, 8.0)})
    (overlap,) = [f for f in check_grids(d, [A]).errors if f.check == "overlap"]
    x0, y0, x1, y1 = overlap.geometry.bounds
    assert 118.8 < x0 < x1 < 119.0 and 32.0 < y0 < y1 < 32.2
    assert json.loads(json.dumps(overlap.to_dict()))["geometry"]["type"] in (
        "Polygon",
        "MultiPolygon",
    )


def test_the_incremental_check_agrees_on_the_whole_sample():
    assert agreement(SAMPLE) == {"only_check": [], "only_full": []}
    assert check_grids(SAMPLE, None).to_dict() == validate(SAMPLE).to_dict()


# ====================================================================== workload
def test_workload_adds_up_and_follows_a_merge():
    counts = {"320113005001001": 30, "320113005001002": 10, "not-a-grid": 99}
    table = workload(SAMPLE, incidents_12m=counts, open_incidents={"320113005001001": 2})
    rows = {r["code"]: r for r in table["grids"]}
    assert len(rows) == 156
    assert sum(r["units"] for r in rows.values()) == 1786
    assert sum(r["residents"] for r in rows.values()) == int(SAMPLE.units["residents"].sum())
    assert sum(r["households"] for r in rows.values()) == int(SAMPLE.units["households"].sum())
    assert sum(r["area_km2"] for r in rows.values()) == pytest.approx(32.67, abs=0.005)
    assert rows["320113005001001"]["incidents_12m"] == 30
    assert rows["320113005001001"]["open_incidents"] == 2
    assert np.mean([r["score"] for r in rows.values()]) == pytest.approx(1.0)
    bal = table["balance"]
    assert bal["factors"] == ["area", "incidents", "residents", "units"]
    assert bal["cv"] > 0 and bal["min"] < 1 < bal["max"]
    assert rows[bal["heaviest"]]["score"] == bal["max"]
    json.dumps(table)
    merged, _ = Merge(("320113005001001", "320113005001002")).apply(SAMPLE)
    after = {r["code"]: r for r in workload(merged)["grids"]}
    assert (
        after["320113005001001"]["units"]
        == rows["320113005001001"]["units"] + rows["320113005001002"]["units"]
    )
    assert "320113005001002" not in after
    # the weights: only units counted
    only_units = workload(SAMPLE, weights=Weights(area=0, units=1, residents=0, incidents=0))
    r0 = only_units["grids"][0]
    assert r0["score"] == pytest.approx(r0["units"] / (1786 / 156))


def test_count_points_counts_by_the_drafts_grids():
    a, b = "320113005001001", "320113005001002"
    merged, _ = Merge((a, b)).apply(SAMPLE)
    pts = [shapely.point_on_surface(SAMPLE.grid2(c).geometry) for c in (a, b, a)]
    lons, lats = [p.x for p in pts] + [0.0], [p.y for p in pts] + [0.0]
    assert count_points(SAMPLE, lons, lats) == {a: 2, b: 1}
    assert count_points(merged, lons, lats) == {a: 3}


# ====================================================================== speed, loosely
def test_an_edit_touches_few_grids():
    """The re-cut is local: a split changes the grid and at most its neighbours."""
    edit = split_edit(SAMPLE, 40, 0.1, 3, 0.7)
    after, result = edit.apply(SAMPLE)
    near = set(neighbours(SAMPLE, edit.code))
    assert set(result.touched) <= near
    unchanged = [c for c in CODES if c not in near and c != edit.code]
    same = shapely.equals_exact(
        SAMPLE.grids2.set_index("code").loc[unchanged].geometry.to_numpy(),
        after.grids2.set_index("code").loc[unchanged].geometry.to_numpy(),
        0,
    )
    assert same.all()
