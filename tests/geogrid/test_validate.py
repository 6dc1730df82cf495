"""Tests of geogrid.validate on small synthetic districts.

The base district is a 4×4 lattice of 500 m squares built in EPSG:4549 near (118.93E, 32.11N)
and converted to lon/lat (shared vertices stay identical). Columns 0-1 form the first-level grid
P1, columns 2-3 the first-level grid P2. Each variant breaks one rule and must yield exactly the
expected finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import Point, Polygon, box

import geogrid.model
from geogrid.crs import area_m2, from_metric, geometry_from_metric, to_metric
from geogrid.errors import InputError
from geogrid.model import LAYER_COLUMNS, District
from geogrid.validate import CHECKS, Finding, Report, validate

X0, Y0 = (round(v) for v in to_metric(118.93, 32.11))
SIZE = 500.0
DISTRICT = "320113005"
P1, P2 = DISTRICT + "001", DISTRICT + "002"


# ---------------------------------------------------------------------- synthetic districts
def square(c: int, r: int, west=0.0, south=0.0, east=0.0, north=0.0):
    """Metric square of lattice cell (column c from the west, row r from the south), grown (or,
    with negative values, shrunk) by the given metres on each side."""
    x, y = X0 + c * SIZE, Y0 + r * SIZE
    return box(x - west, y - south, x + SIZE + east, y + SIZE + north)


def parent_of(c: int) -> str:
    return P1 if c < 2 else P2


def code_of(c: int, r: int) -> str:
    # numbered west to east, then north to south, inside each community
    return parent_of(c) + f"{(3 - r) * 2 + c % 2 + 1:03d}"


@dataclass
class Cell:
    key: tuple[int, int]
    code: str | None
    parent: str | None
    geom: object  # metric (EPSG:4549)


def lattice() -> list[Cell]:
    return [
        Cell((c, r), code_of(c, r), parent_of(c), square(c, r)) for r in range(4) for c in range(4)
    ]


def cell(cells: list[Cell], c: int, r: int) -> Cell:
    return next(x for x in cells if x.key == (c, r))


def renode(cells: list[Cell]) -> list[Cell]:
    """Give every cell the vertices its neighbours have on its edges (field notes' recipe)."""
    geoms = np.array([x.geom for x in cells], dtype=object)
    edges = shapely.union_all(shapely.boundary(geoms))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    tree = shapely.STRtree(geoms)
    f, g = tree.query(shapely.point_on_surface(faces), predicate="within")
    out = []
    for i, x in enumerate(cells):
        mine = faces[f[g == i]]
        out.append(replace(x, geom=shapely.coverage_union_all(mine)))
    return out


def base_grids1() -> dict[str, object]:
    """The first-level grids of the untouched lattice, as unions of their squares (metric)."""
    return {
        p: shapely.coverage_union_all([x.geom for x in lattice() if x.parent == p])
        for p in (P1, P2)
    }


def frame(layer: str, records: list[dict], geoms) -> gpd.GeoDataFrame:
    cols = LAYER_COLUMNS[layer]
    df = pd.DataFrame.from_records(records, columns=cols)
    df = df.astype(object).where(df.notna(), None)
    return gpd.GeoDataFrame(df, geometry=list(geoms), crs="EPSG:4326")


def build(
    cells: list[Cell],
    *,
    grids1: dict | str | None = None,
    units: list | None = None,
    extra_units: list | None = None,
    outline: bool = False,
    metric: bool = False,
) -> District:
    """A District from metric cells.

    grids1: None for the untouched lattice's first-level grids, "children" for the unions of the
    given cells, or a dict parent code → metric geometry. units: (code, metric point, grid) triples;
    by default one unit per cell, inside it, naming it. metric=True keeps projected coordinates
    (as if the CRS had been lost).
    """
    conv = (lambda g: g) if metric else geometry_from_metric
    if grids1 is None:
        grids1 = base_grids1()
    elif grids1 == "children":
        grids1 = {p: shapely.union_all([x.geom for x in cells if x.parent == p]) for p in (P1, P2)}
    g1 = frame(
        "grids1",
        [{"code": p, "name": f"社区{p[-1]}", "parent": DISTRICT} for p in grids1],
        [conv(g) for g in grids1.values()],
    )
    g2 = frame(
        "grids2",
        [
            {"code": x.code, "name": f"网格{x.code}", "parent": x.parent, "kind": "社区网格"}
            for x in cells
        ],
        [conv(x.geom) for x in cells],
    )
    if units is None:
        units = []
        for i, x in enumerate(cells):
            c, r = x.key
            if x.geom.is_valid:
                at = shapely.point_on_surface(x.geom)
            else:
                at = Point(X0 + (c + 0.5) * SIZE, Y0 + (r + 0.5) * SIZE)
            units.append((f"U{i:02d}", at, x.code))
    units = units + (extra_units or [])
    u = frame(
        "units",
        [{"code": code, "name": f"单位{code}", "grid": grid} for code, _, grid in units],
        [conv(p) for _, p, _ in units],
    )
    shape = None
    if outline:
        shape = conv(shapely.coverage_union_all([x.geom for x in lattice()]))
    return District(DISTRICT, "仙林街道", g1, g2, u, shape)


def findings(report: Report) -> list[tuple[str, tuple[str, ...]]]:
    return [(f.check, f.codes) for f in report.errors + report.notices]


def only(report: Report, check: str) -> Finding:
    """The one finding of the report, which must be of this check."""
    got = findings(report)
    assert len(got) == 1 and got[0][0] == check, report.format_text()
    f = (report.errors + report.notices)[0]
    assert f.severity == CHECKS[check]
    return f


def area_of(f: Finding) -> float:
    return float(area_m2(f.geometry))


# ---------------------------------------------------------------------- valid districts
@pytest.mark.parametrize("outline", [False, True])
def test_valid_lattice_has_no_finding(outline):
    report = validate(build(lattice(), outline=outline))
    assert report.ok
    assert report.errors == [] and report.notices == [], report.format_text()
    assert report.format_text() == "OK: no errors, no notices"


def test_renoded_lattice_is_valid():
    # vertices added where nothing changed; other parameters
    report = validate(build(renode(lattice())), gap_width_m=2, tolerance_m2=0.001)
    assert findings(report) == []


# ---------------------------------------------------------------------- gaps
@pytest.mark.parametrize("outline", [False, True])
def test_shrunk_grid_leaves_a_gap(outline):
    cells = lattice()
    cell(cells, 1, 1).geom = square(1, 1, -2, -2, -2, -2)
    f = only(validate(build(cells, outline=outline)), "gap")
    assert f.layer == "grids2"
    assert f.codes == tuple(
        sorted(code_of(c, r) for c, r in [(1, 1), (0, 1), (2, 1), (1, 0), (1, 2)])
    )
    assert area_of(f) == pytest.approx(SIZE**2 - (SIZE - 4) ** 2, rel=1e-4)
    assert "3,984.0 m²" in f.message and "2.00 m wide" in f.message


def inlet_cells() -> list[Cell]:
    """The north-east corner cell pulled back 0.5 m from its west neighbour: a narrow inlet that
    opens to the outside, so the union of the grids has no hole."""
    cells = lattice()
    cell(cells, 3, 3).geom = square(3, 3, west=-0.5)
    return cells


def test_narrow_inlet_is_a_gap_only_with_a_gap_width():
    f = only(validate(build(inlet_cells())), "gap")
    assert f.codes == tuple(sorted([code_of(2, 3), code_of(3, 3), code_of(3, 2)]))
    assert area_of(f) == pytest.approx(0.5 * SIZE, rel=1e-3)
    assert "0.50 m wide" in f.message and "Narrow" in f.message
    # edges matched vertex for vertex: only the coverage check's gap width flags the inlet
    report = validate(build(renode(inlet_cells()), grids1="children"))
    assert [(c, codes) for c, codes in findings(report)] == [("gap", f.codes)]
    assert (
        findings(validate(build(renode(inlet_cells()), grids1="children"), gap_width_m=0.4)) == []
    )
    # narrower gap width: no error, only the vertex the two edges no longer share
    report = validate(build(inlet_cells(), grids1="children"), gap_width_m=0.4)
    assert findings(report) == [("unmatched-edge", tuple(sorted([code_of(3, 2), code_of(3, 3)])))]
    # the first-level grid drawn without the inlet is not covered by its second-level grids
    report = validate(build(inlet_cells()), gap_width_m=0.4)
    assert findings(report)[0] == ("level1-mismatch", (P2,))


def test_narrow_inlet_with_an_outline_is_a_plain_gap():
    f = only(validate(build(inlet_cells(), outline=True)), "gap")
    assert f.codes == tuple(sorted([code_of(2, 3), code_of(3, 3), code_of(3, 2)]))
    assert area_of(f) == pytest.approx(0.5 * SIZE, rel=1e-3)


def test_outline_inlet_is_not_a_gap():
    # the district itself has a 0.5 m wide inlet: the coverage validator flags its edges, but the
    # outline has the same inlet, so nothing is wrong
    cells = inlet_cells()
    d = build(cells, grids1="children")
    d.outline = geometry_from_metric(shapely.coverage_union_all([x.geom for x in cells]))
    assert findings(validate(d)) == []


def test_hole_in_a_grid_is_a_gap():
    cells = lattice()
    x = cell(cells, 2, 2)
    x.geom = Polygon(x.geom.exterior, [box(X0 + 1240, Y0 + 1240, X0 + 1260, Y0 + 1260).exterior])
    f = only(validate(build(cells)), "gap")
    assert f.codes == (code_of(2, 2),)
    assert area_of(f) == pytest.approx(400, rel=1e-4)


def test_grid_outside_the_outline():
    cells = lattice()
    cell(cells, 3, 1).geom = square(3, 1, east=10)
    f = only(validate(build(cells, grids1="children", outline=True)), "gap")
    assert f.codes == (code_of(3, 1),)
    assert area_of(f) == pytest.approx(10 * SIZE, rel=1e-4)
    assert "stick out of the district outline" in f.message


def test_missing_grid_with_outline():
    cells = [x for x in lattice() if x.key != (3, 0)]
    d = build(cells, grids1="children", outline=True)
    f = only(validate(d), "gap")
    assert f.codes == tuple(sorted([code_of(2, 0), code_of(3, 1)]))
    assert area_of(f) == pytest.approx(SIZE**2, rel=1e-4)


# ---------------------------------------------------------------------- overlaps
def test_overlapping_grids():
    cells = lattice()
    cell(cells, 0, 1).geom = square(0, 1, east=10)
    f = only(validate(build(cells)), "overlap")
    assert f.codes == tuple(sorted([code_of(0, 1), code_of(1, 1)]))
    assert area_of(f) == pytest.approx(10 * SIZE, rel=1e-4)
    assert "10.00 m wide" in f.message


@pytest.mark.parametrize("grow, check", [(0.005, "unmatched-edge"), (0.02, "overlap")])
def test_overlap_narrower_than_stored_precision_is_a_notice(grow, check):
    # 500 m × 5 mm = 2.5 m², above the area tolerance, but narrower than the 1 cm the stored
    # coordinates resolve: vertex mismatch, not an overlap; 2 cm is an overlap
    cells = lattice()
    cell(cells, 0, 1).geom = square(0, 1, east=grow)
    f = only(validate(build(renode(cells))), check)
    if check == "overlap":
        assert f.codes == (code_of(0, 1), code_of(1, 1))
        assert area_of(f) == pytest.approx(SIZE * grow, rel=1e-3)
    else:  # the corners of the sliver touch the squares north and south too
        assert {code_of(0, 1), code_of(1, 1)} <= set(f.codes)


def test_tiny_overlap_below_tolerance_is_ignored_but_edges_noticed():
    cells = lattice()
    cell(cells, 0, 1).geom = square(0, 1, east=0.00001)  # 0.005 m²
    report = validate(build(cells))
    assert report.ok
    assert {c for c, _ in findings(report)} == {"unmatched-edge"}


def test_overlapping_first_level_grids():
    g1 = base_grids1()
    g1[P1] = shapely.union_all([g1[P1], box(X0 + 1000, Y0, X0 + 1010, Y0 + 2000)])
    report = validate(build(lattice(), grids1=g1))
    assert [c for c, _ in findings(report)] == ["overlap", "level1-mismatch"]
    overlap = report.errors[0]
    assert overlap.layer == "grids1" and overlap.codes == (P1, P2)
    assert area_of(overlap) == pytest.approx(20000, rel=1e-4)
    assert "First-level grids" in overlap.message


# ---------------------------------------------------------------------- geometry
def test_bowtie_is_invalid_geometry_only():
    cells = lattice()
    x0, y0, x1, y1 = square(1, 1).bounds
    cell(cells, 1, 1).geom = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    f = only(validate(build(cells)), "invalid-geometry")
    assert f.codes == (code_of(1, 1),)
    assert "Self-intersection" in f.message
    assert f.geometry.geom_type == "Polygon" and not f.geometry.is_valid


def test_bowtie_still_lets_other_errors_through():
    cells = lattice()
    x0, y0, x1, y1 = square(1, 1).bounds
    cell(cells, 1, 1).geom = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    cell(cells, 2, 2).geom = square(2, 2, -2, -2, -2, -2)
    report = validate(build(cells))
    assert [c for c, _ in findings(report)] == ["invalid-geometry", "gap"]
    assert area_of(report.errors[1]) == pytest.approx(3984, rel=1e-4)


def test_bowtie_hides_only_what_depends_on_its_shape():
    cells = lattice()
    x0, y0, x1, y1 = square(1, 1).bounds
    cell(cells, 1, 1).geom = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    extra = [
        ("IN", Point(x0 + 250, y0 + 100), code_of(1, 1)),  # where the bowtie is not: unknown
        ("FAR", Point(X0 + 250, Y0 - 50), code_of(0, 0)),  # outside everything
    ]
    report = validate(build(cells, extra_units=extra))
    assert findings(report) == [
        ("invalid-geometry", (code_of(1, 1),)),
        ("unit-outside", ("FAR", code_of(0, 0))),
    ]


def test_non_polygon_and_empty_grids_and_non_point_units():
    cells = lattice()
    cell(cells, 0, 0).geom = shapely.LineString([(X0, Y0), (X0 + 500, Y0 + 500)])
    d = build(cells, units=[("U1", Point(X0 + 1750, Y0 + 250), code_of(3, 0))])
    d.grids2.loc[5, "geometry"] = Polygon()
    d.units.loc[0, "geometry"] = box(118.93, 32.11, 118.931, 32.111)
    report = validate(d)
    invalid = [f for f in report.errors if f.check == "invalid-geometry"]
    by_code = {f.codes: f for f in invalid}
    assert [(f.layer, f.codes) for f in invalid] == [
        ("grids2", tuple([c])) for c in sorted([code_of(0, 0), d.grids2.loc[5, "code"]])
    ] + [("units", ("U1",))]
    assert "is a LineString, not a polygon" in by_code[(code_of(0, 0),)].message
    assert "has no geometry" in by_code[(d.grids2.loc[5, "code"],)].message
    assert "is a Polygon, not a point" in by_code[("U1",)].message
    # the grids with no usable shape leave their squares uncovered, which is a gap
    assert {c for c, _ in findings(report)} == {"invalid-geometry", "gap", "level1-mismatch"}


def exclave_district():
    """A lattice where grid (0, 0) also owns the south half of cell (0, 2): two parts."""
    cells = lattice()
    a, north = cell(cells, 0, 0), cell(cells, 0, 2)
    a.geom = shapely.union_all([square(0, 0), square(0, 2, north=-250)])
    north.geom = square(0, 2, south=-250)
    return build(renode(cells), grids1="children")


def test_multipart_grid():
    district = exclave_district()
    strict = validate(district, allow_exclaves=False)
    f = only(strict, "multipart")
    assert f.codes == (code_of(0, 0),) and not strict.ok
    assert area_of(f) == pytest.approx(SIZE * SIZE / 2, rel=1e-4)
    assert "2 separate parts" in f.message
    # by default an exclave (飞地) is allowed: the same finding, as a notice
    allowed = validate(district)
    assert allowed.ok and [(n.check, n.codes) for n in allowed.notices] == [("multipart", f.codes)]
    assert allowed.notices[0].message == f.message + " An exclave: allowed, check it."


def test_the_exclave_setting_decides_when_none_is_given(monkeypatch):
    district = exclave_district()
    monkeypatch.setenv("GEOGRID_ALLOW_EXCLAVES", "0")
    assert [e.check for e in validate(district).errors] == ["multipart"]
    assert validate(district, allow_exclaves=True).ok
    monkeypatch.setenv("GEOGRID_ALLOW_EXCLAVES", "maybe")
    with pytest.raises(InputError, match="GEOGRID_ALLOW_EXCLAVES must be 1 or 0"):
        validate(district)


# ---------------------------------------------------------------------- codes
def test_duplicate_code_within_layer():
    cells = lattice()
    cell(cells, 2, 2).code = code_of(2, 1)
    f = only(validate(build(cells)), "duplicate-code")
    assert f.codes == (code_of(2, 1),) and f.layer == "grids2"
    assert "used 2 times within its layer" in f.message
    assert len(shapely.get_parts(f.geometry)) == 2


def test_duplicate_code_across_layers_and_missing_code():
    cells = lattice()
    cell(cells, 3, 0).code = None
    units = [(code_of(0, 0), Point(X0 + 100, Y0 + 100), code_of(0, 0))]
    report = validate(build(cells, units=units))
    got = [(f.check, f.layer, f.codes) for f in report.errors]
    missing_index = next(i for i, x in enumerate(cells) if x.key == (3, 0))
    assert got == [
        ("duplicate-code", "grids2", (f"#{missing_index}",)),
        ("duplicate-code", "units", (code_of(0, 0),)),
    ]
    assert "has no code" in report.errors[0].message
    assert "across layers (1 second-level grids, 1 units)" in report.errors[1].message
    assert report.notices == []


# ---------------------------------------------------------------------- parents
@pytest.mark.parametrize("parent", [DISTRICT + "009", None])
def test_parent_missing(parent):
    cells = lattice()
    cell(cells, 3, 3).parent = parent
    f = only(validate(build(cells)), "parent-missing")
    assert f.codes == ((code_of(3, 3), parent) if parent else (code_of(3, 3),))


def test_grid_outside_its_parent():
    cells = lattice()
    cell(cells, 1, 1).parent = P2
    f = only(validate(build(cells)), "outside-parent")
    assert f.codes == (code_of(1, 1), P2, P1)
    assert area_of(f) == pytest.approx(SIZE**2, rel=1e-4)
    assert f"outside its first-level grid {P2} (in first-level grid {P1})" in f.message


def test_grid_sticking_out_of_a_shrunk_parent():
    g1 = base_grids1()
    g1[P1] = shapely.difference(g1[P1], box(X0, Y0, X0 + 30, Y0 + 500))
    f = only(validate(build(lattice(), grids1=g1)), "outside-parent")
    assert f.codes == (code_of(0, 0), P1)
    assert area_of(f) == pytest.approx(30 * SIZE, rel=1e-4)
    assert "in no first-level grid" in f.message


def test_level1_not_the_union_of_its_grids():
    g1 = base_grids1()
    g1[P1] = shapely.union_all([g1[P1], box(X0 - 100, Y0, X0, Y0 + 2000)])
    f = only(validate(build(lattice(), grids1=g1)), "level1-mismatch")
    assert f.codes == (P1,) and f.layer == "grids1"
    assert area_of(f) == pytest.approx(200000, rel=1e-4)


def test_level1_without_children():
    g1 = base_grids1()
    g1[DISTRICT + "003"] = box(X0 - 2000, Y0, X0 - 1400, Y0 + 600)
    f = only(validate(build(lattice(), grids1=g1)), "level1-mismatch")
    assert f.codes == (DISTRICT + "003",)
    assert "has no second-level grids" in f.message


# ---------------------------------------------------------------------- units
def test_unit_outside_every_grid():
    extra = [("UX", Point(X0 + 250, Y0 - 50), code_of(0, 0))]
    f = only(validate(build(lattice(), extra_units=extra)), "unit-outside")
    assert f.codes == ("UX", code_of(0, 0)) and f.layer == "units"
    assert f"nearest is {code_of(0, 0)}, 50.00 m away" in f.message
    assert f.geometry.geom_type == "Point"


def test_unit_with_wrong_grid_code():
    extra = [
        ("UX", Point(X0 + 250, Y0 + 250), code_of(1, 0)),  # stands in (0, 0)
        ("UY", Point(X0 + 250, Y0 + 250), DISTRICT + "001999"),  # no such grid
        ("UZ", Point(X0 + 250, Y0 + 250), None),
    ]
    report = validate(build(lattice(), extra_units=extra))
    assert findings(report) == [
        ("unit-grid-mismatch", ("UX", code_of(1, 0), code_of(0, 0))),
        ("unit-grid-mismatch", ("UY", DISTRICT + "001999")),
        ("unit-grid-mismatch", ("UZ", code_of(0, 0))),
    ]
    assert "250.0 m from" in report.errors[0].message


def test_unit_on_a_shared_edge_may_name_either_side():
    mid_edge = Point(X0 + 500, Y0 + 250)  # between (0, 0) and (1, 0)
    corner = Point(X0 + 1000, Y0 + 1000)  # shared by (1, 1), (2, 1), (1, 2), (2, 2)
    extra = [("E0", mid_edge, code_of(0, 0)), ("E1", mid_edge, code_of(1, 0))]
    extra += [(f"C{c}{r}", corner, code_of(c, r)) for c in (1, 2) for r in (1, 2)]
    assert findings(validate(build(lattice(), extra_units=extra))) == []
    # on the lon/lat edge itself, exactly
    d = build(lattice())
    edge = shapely.intersection(d.grid2(code_of(0, 0)).geometry, d.grid2(code_of(1, 0)).geometry)
    on = shapely.line_interpolate_point(edge, 0.37, normalized=True)
    d.units.loc[0, "geometry"] = on
    d.units.loc[0, "grid"] = code_of(1, 0)
    assert findings(validate(d)) == []
    # but one metre inside the west square is not on the edge
    extra = [("E2", Point(X0 + 499, Y0 + 250), code_of(1, 0))]
    f = only(validate(build(lattice(), extra_units=extra)), "unit-grid-mismatch")
    assert f.codes == ("E2", code_of(1, 0), code_of(0, 0))


# ---------------------------------------------------------------------- notices
def test_sliver_notice():
    cells = lattice()
    a, b = cell(cells, 0, 0), cell(cells, 1, 0)
    a.geom = box(X0, Y0 + 460, X0 + 1000, Y0 + 500)  # 1000 m × 40 m: thinness 25
    b.geom = box(X0, Y0, X0 + 1000, Y0 + 460)
    report = validate(build(renode(cells)))
    f = only(report, "sliver")
    assert f.codes == (code_of(0, 0),) and f.severity == "notice" and report.ok
    assert "thinness 25.0" in f.message
    assert validate(build(renode(cells)), sliver_thinness=30).notices == []


def test_small_grid_notice():
    cells = lattice()
    a = cell(cells, 0, 0)
    a.geom = shapely.difference(square(0, 0), box(X0, Y0, X0 + 100, Y0 + 100))
    cells.append(Cell((0, 0), DISTRICT + "001099", P1, box(X0, Y0, X0 + 100, Y0 + 100)))
    f = only(validate(build(renode(cells))), "size-small")
    assert f.codes == (DISTRICT + "001099",)
    assert "10,000.0 m²" in f.message and "median" in f.message


def test_large_grid_notice():
    cells = lattice()
    cell(cells, 0, 0).geom = box(X0, Y0, X0 + 1000, Y0 + 500)
    cells = [x for x in cells if x.key != (1, 0)]
    report = validate(build(renode(cells)), size_factor=1.5)
    f = only(report, "size-large")
    assert f.codes == (code_of(0, 0),)
    assert validate(build(renode(cells))).notices == []  # within the default factor of 8


@pytest.mark.parametrize("at", [0.5, 0.3, 0.77])
def test_t_junction_stored_to_disk_is_still_a_notice(tmp_path, at):
    # splitting (1, 1) in lon/lat puts a vertex on the edge of (2, 1) that (2, 1) lacks; on disk
    # it is rounded to 1e-7 degree, a few millimetres off that edge
    d = build(lattice(), units=[])
    i = int(np.flatnonzero(d.grids2["code"] == code_of(1, 1))[0])
    sw, se, ne, nw = (
        np.array(from_metric(X0 + x, Y0 + y))
        for x, y in [(500, 500), (1000, 500), (1000, 1000), (500, 1000)]
    )
    p, q = se + at * (ne - se), sw + at * (nw - sw)  # on the east and west edges, in lon/lat
    north, south = Polygon([q, p, ne, nw]), Polygon([sw, se, p, q])
    assert float(area_m2(shapely.union_all([north, south]))) == pytest.approx(SIZE**2, rel=1e-6)
    d.grids2.loc[i, "geometry"] = north
    new = {"code": DISTRICT + "001099", "name": "网格", "parent": P1, "kind": None}
    d.grids2 = pd.concat([d.grids2, frame("grids2", [new], [south])], ignore_index=True).set_crs(
        4326, allow_override=True
    )
    d.save(tmp_path)
    report = validate(District.load(tmp_path))
    assert report.ok, report.format_text()
    assert {c for c, _ in findings(report)} == {"unmatched-edge"}
    codes = {code for _, codes in findings(report) for code in codes}
    assert codes <= {code_of(1, 1), DISTRICT + "001099", code_of(0, 1), code_of(2, 1)}
    assert code_of(2, 1) in codes


def test_t_junction_is_a_notice_not_an_error():
    d = build(lattice())
    i = int(np.flatnonzero(d.grids2["code"] == code_of(1, 1))[0])
    g = d.grids2.geometry.iloc[i]
    coords = list(g.exterior.coords)
    east = max(range(len(coords) - 1), key=lambda k: coords[k][0] + coords[k + 1][0])
    (ax, ay), (bx, by) = coords[east], coords[east + 1]
    coords.insert(east + 1, ((ax + bx) / 2, (ay + by) / 2))  # on the edge, in lon/lat
    d.grids2.loc[i, "geometry"] = Polygon(coords)
    report = validate(d)
    f = only(report, "unmatched-edge")
    assert f.codes == (code_of(1, 1), code_of(2, 1)) and report.ok
    assert float(shapely.length(shapely.get_parts(f.geometry)).sum()) > 0


# ---------------------------------------------------------------------- coordinates
def test_projected_coordinates_are_reported_once():
    report = validate(build(lattice(), metric=True, outline=True))
    f = only(report, "not-lonlat")
    assert f.layer == "outline" and f.geometry is None
    assert "Projected data loaded without its CRS?" in f.message


def test_swapped_axes_and_projected_crs():
    d = build(lattice())
    d.units["geometry"] = shapely.transform(d.units.geometry.values, lambda xy: xy[:, ::-1])
    f = only(validate(d), "not-lonlat")
    assert f.layer == "units" and "swapped" in f.message
    d = build(lattice())
    d.grids1 = d.grids1.to_crs(4549)
    f = only(validate(d), "not-lonlat")
    assert f.layer == "grids1" and "EPSG:4549" in f.message


# ---------------------------------------------------------------------- output
def test_report_text_and_json():
    cells = lattice()
    cell(cells, 0, 1).geom = square(0, 1, east=10)
    cells.append(Cell((0, 0), DISTRICT + "001099", P1, box(X0 - 40, Y0, X0, Y0 + 1000)))
    report = validate(build(renode(cells), grids1="children"))
    assert [f.check for f in report.errors] == ["overlap"]
    assert [f.check for f in report.notices] == ["sliver"]
    text = report.format_text()
    lines = text.splitlines()
    assert lines[0] == "Errors (1):"
    assert lines[1] == "  overlap (1)"
    assert lines[2].startswith(f"    - Second-level grids {code_of(0, 1)} and {code_of(1, 1)}")
    assert "Notices (1):" in lines and "  sliver (1)" in lines
    assert lines[-1] == "FAILED: 1 error (overlap 1), 1 notice (sliver 1)"
    data = json.loads(report.to_json())
    assert data["ok"] is False and data["counts"] == {"overlap": 1, "sliver": 1}
    err = data["errors"][0]
    assert err["severity"] == "error" and err["check"] == "overlap" and err["layer"] == "grids2"
    assert err["codes"] == [code_of(0, 1), code_of(1, 1)]
    assert err["geometry"]["type"] == "Polygon"
    assert float(area_m2(shapely.geometry.shape(err["geometry"]))) == pytest.approx(5000, rel=1e-4)
    assert "m²" in report.to_json()  # ensure_ascii=False keeps the superscript


def test_empty_district():
    from geogrid.model import empty_layer

    d = District(DISTRICT, "仙林街道", empty_layer("grids1"), empty_layer("grids2"))
    assert findings(validate(d)) == []
    d.units = frame("units", [{"code": "U1", "grid": code_of(0, 0)}], [Point(118.93, 32.11)])
    assert findings(validate(d)) == [
        ("unit-outside", ("U1", code_of(0, 0))),
        ("unit-grid-mismatch", ("U1", code_of(0, 0))),  # no such grid either
    ]


def test_finding_to_dict_without_geometry():
    f = Finding("error", "not-lonlat", "msg", "grids2")
    assert f.to_dict() == {
        "severity": "error",
        "check": "not-lonlat",
        "message": "msg",
        "layer": "grids2",
        "codes": [],
        "geometry": None,
    }


# ---------------------------------------------------------------------- realistic size
def voronoi_district(n: int = 156, communities: int = 10, units: int = 1786, seed: int = 7):
    """A district the size of Xianlin: n perturbed Voronoi cells of ~100-200 vertices each,
    grouped into first-level grids, and units placed at random, each naming its grid."""
    rng = np.random.default_rng(seed)
    xa, ya = to_metric(118.88, 32.07)
    xb, yb = to_metric(118.98, 32.15)
    frame_box = box(xa, ya, xb, yb)
    seeds = shapely.points(rng.uniform((xa, ya), (xb, yb), size=(n, 2)))
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame_box)
    )
    cells = shapely.intersection(cells, frame_box)
    # one noded edge network, densified, then faces: neighbours share every vertex
    edges = shapely.segmentize(shapely.union_all(shapely.boundary(cells)), 18.0)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))

    def wobble(xy):  # smooth displacement: the same vertex always moves the same way
        x, y = xy[:, 0], xy[:, 1]
        dx = 12 * np.sin(y / 170.0) + 6 * np.sin((x + y) / 90.0)
        dy = 12 * np.cos(x / 190.0) + 6 * np.cos((x - y) / 110.0)
        return np.column_stack([x + dx, y + dy])

    faces = shapely.transform(faces, wobble)
    centres = shapely.get_coordinates(shapely.point_on_surface(faces))
    hubs = rng.uniform((xa, ya), (xb, yb), size=(communities, 2))
    community = np.argmin(((centres[:, None, :] - hubs[None]) ** 2).sum(axis=2), axis=1)
    faces_ll = geometry_from_metric(faces)
    g1_codes = [DISTRICT + f"{k + 1:03d}" for k in range(communities)]
    seq = np.zeros(communities, dtype=int)
    g2_records = []
    for k in community:
        seq[k] += 1
        g2_records.append({"code": g1_codes[k] + f"{seq[k]:03d}", "parent": g1_codes[k]})
    g1_geoms = [shapely.coverage_union_all(faces_ll[community == k]) for k in range(communities)]
    outline = shapely.coverage_union_all(faces_ll)
    pts_m = shapely.points(rng.uniform((xa, ya), (xb, yb), size=(units * 2, 2)))
    pts = geometry_from_metric(pts_m)
    tree = shapely.STRtree(faces_ll)
    p, g = tree.query(pts, predicate="within")
    _, first = np.unique(p, return_index=True)
    p, g = p[first][:units], g[first][:units]
    d = District(
        DISTRICT,
        "仙林街道",
        frame("grids1", [{"code": c, "parent": DISTRICT} for c in g1_codes], g1_geoms),
        frame("grids2", g2_records, faces_ll),
        frame(
            "units",
            [{"code": f"U{i:04d}", "grid": g2_records[k]["code"]} for i, k in enumerate(g)],
            pts[p],
        ),
        outline,
    )
    return d


@pytest.fixture(scope="module")
def big():
    return voronoi_district()


def test_voronoi_district_survives_save_and_load(big, tmp_path):
    big.save(tmp_path)  # rounds coordinates to 7 decimals
    report = validate(District.load(tmp_path))
    assert report.errors == [], report.format_text()
    assert {f.check for f in report.notices} <= {"size-small", "size-large"}


def test_voronoi_district_is_valid(big):  # its validation time: bench/tasks_bench.py
    assert len(big.grids2) == 156 and len(big.units) == 1786
    nverts = shapely.get_num_coordinates(big.grids2.geometry.values)
    assert 100 <= np.median(nverts) <= 200
    assert len(big.grids1) == 10
    report = validate(big)
    assert report.errors == [], report.format_text()
    assert {f.check for f in report.notices} <= {"size-small", "size-large"}


def test_voronoi_district_after_a_bad_edit(big):
    # a planner drags one vertex of one grid 5 m into its neighbour
    d = District(big.code, big.name, big.grids1, big.grids2.copy(), big.units, big.outline)
    i = 40
    g = d.grids2.geometry.iloc[i]
    coords = np.array(g.exterior.coords)
    k = 3  # not the closing vertex
    cx, cy = to_metric(*shapely.get_coordinates(shapely.centroid(g))[0])
    x, y = to_metric(*coords[k])
    step = 5 / np.hypot(x - cx, y - cy)
    coords[k] = from_metric(x + (x - cx) * step, y + (y - cy) * step)
    d.grids2.loc[i, "geometry"] = Polygon(coords)
    report = validate(d)
    # the vertex moved into the neighbour: one overlap, a thin triangle of a few dozen m²
    assert [f.check for f in report.errors] == ["overlap"], report.format_text()
    f = report.errors[0]
    assert d.grids2["code"].iloc[i] in f.codes
    assert 1 < area_of(f) < 500


# ---------------------------------------------------------------------- bundled sample
SAMPLE = geogrid.model.default_data_dir()


@pytest.mark.skipif(
    not (SAMPLE / "grids_level2.geojson").exists(),
    reason="bundled sample district not generated yet (boundaries/grids_level2.geojson missing)",
)
def test_bundled_sample_district_is_valid():
    report = validate(District.load(SAMPLE))
    assert report.errors == [], report.format_text()
    assert {f.check for f in report.notices} <= {"size-small", "size-large"}, report.format_text()
