"""The planner's edits on the sample: each edit as the workspace answers it, against the naive way.

Run from the repository root::

    .venv/bin/python bench/planning_bench.py [--repeats 7]

For each edit (a split, a moved boundary, a merge, a dragged vertex, a grid moved to another
community, a unit moved by hand, a new worker), on the bundled sample (156 grids, 1786 units):

* **ours**: the exact server cut (``edit.apply``), the incremental check of the grids it touched
  and their neighbours (``check_edit``) and the workload table (``workload``);
* **naive**: the same cut, then full re-validation (``validate``) and a recompute the obvious
  geopandas way: the overlap check by ``geopandas.overlay(grids, grids, how="intersection")``,
  the areas by ``to_crs(4549).area`` and the units' grids and counts by ``geopandas.sjoin``.

A last row times the split itself done with ``geopandas.overlay`` (the grid against the two
half-planes of the line), which is fast but not exact: the neighbours keep their edges without
the cut's end points (T-junctions, which the full validator flags).

Each figure is the median of ``--repeats`` runs on the same base district. The target (each edit
answered in under 200 ms) only prints PASS or FAIL: the figures move with the machine's load.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import geopandas as gpd
import numpy as np
import shapely

from geogrid.crs import from_metric, to_metric
from geogrid.model import District, default_data_dir
from geogrid.planning import (
    DragVertex,
    Merge,
    MoveBoundary,
    MoveGridToCommunity,
    MoveUnit,
    SetWorker,
    Split,
)
from geogrid.planning import geometry as geo
from geogrid.planning.check import adjust, check_edit
from geogrid.planning.workload import workload
from geogrid.validate import validate

TARGET_S = 0.200


def median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def m2ll(x, y):
    lon, lat = from_metric(x, y)
    return (float(lon), float(lat))


def sample_edits(d: District) -> list[tuple[str, object]]:
    codes = list(d.grids2["code"])
    a, b = codes[0], codes[1]
    g = d.grid2(codes[40]).geometry
    p = np.array(to_metric(*shapely.get_coordinates(shapely.point_on_surface(g))[0]))
    u = np.array([math.cos(0.7), math.sin(0.7)]) * 3000
    split = Split(codes[40], [m2ll(*(p - u)), m2ll(*(p + u))])
    edge = geo.shared_edge(d.grid2(a).geometry, d.grid2(b).geometry)
    s = shapely.line_interpolate_point(edge, 0.2, normalized=True)
    e = shapely.line_interpolate_point(edge, 0.8, normalized=True)
    mid = np.array(to_metric(*shapely.line_interpolate_point(edge, 0.5, normalized=True).coords[0]))
    inner = np.array(to_metric(*shapely.point_on_surface(d.grid2(a).geometry).coords[0]))
    dent = mid + 40 * (inner - mid) / np.linalg.norm(inner - mid)
    move = MoveBoundary([s.coords[0], m2ll(*dent), e.coords[0]], codes=(a, b))
    xy = shapely.get_coordinates(edge)[len(shapely.get_coordinates(edge)) // 2]
    vx, vy = to_metric(*xy)
    drag = DragVertex(tuple(xy), m2ll(vx + 4, vy + 3))
    border = next(
        c
        for c in codes
        if any(
            geo.shares_edge(d.grid2(c).geometry, h) and p2 != d.grid2(c)["parent"]
            for h, p2 in zip(d.grids2.geometry, d.grids2["parent"], strict=True)
        )
    )
    target = next(
        p2
        for h, p2 in zip(d.grids2.geometry, d.grids2["parent"], strict=True)
        if p2 != d.grid2(border)["parent"] and geo.shares_edge(d.grid2(border).geometry, h)
    )
    unit = d.units.iloc[0]
    return [
        ("split", split),
        ("move boundary", move),
        ("merge", Merge((a, b))),
        ("drag vertex", drag),
        ("move grid to community", MoveGridToCommunity(border, target)),
        ("move unit", MoveUnit(unit["code"], b, "served by the neighbouring office")),
        ("set worker", SetWorker(a, "张三", "13900000000")),
    ]


def naive_recompute(d: District):
    grids = d.grids2
    pairs = gpd.overlay(
        grids[["code", "geometry"]],
        grids[["code", "geometry"]],
        how="intersection",
        keep_geom_type=True,
    )
    pairs = pairs[pairs["code_1"] != pairs["code_2"]]
    overlaps = pairs.to_crs(4549).area.sum()
    areas = grids.to_crs(4549).area
    joined = gpd.sjoin(
        d.units[["code", "residents", "geometry"]], grids[["code", "geometry"]], predicate="within"
    )
    counts = joined.groupby("code_right").size()
    return overlaps, areas, counts


def overlay_split(d: District, edit: Split):
    grid = d.grids2[d.grids2["code"] == edit.code]
    (x0, y0), (x1, y1) = edit.line[0], edit.line[-1]
    nx, ny = y0 - y1, x1 - x0  # a normal of the line, as long as the line
    half = [
        shapely.Polygon(
            [(x0, y0), (x1, y1), (x1 + s * nx, y1 + s * ny), (x0 + s * nx, y0 + s * ny)]
        )
        for s in (1, -1)
    ]
    sides = gpd.GeoDataFrame({"side": [0, 1]}, geometry=half, crs=4326)
    return gpd.overlay(grid, sides, how="intersection")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    d = District.load(default_data_dir())
    edits = sample_edits(d)
    # warm up the caches (pyproj transformers, the area cache of the unchanged grids)
    workload(d)
    validate(d)
    naive_recompute(d)
    print(f"Planner's edits on the sample ({len(d.grids2)} grids, {len(d.units)} units), "
          f"median of {args.repeats} runs, ms")  # fmt: skip
    head = (
        f"  {'edit':<24}{'cut':>8}{'check':>8}{'workload':>9}{'ours':>8}   "
        f"{'validate':>9}{'overlay':>9}{'naive':>8}{'×':>7}  target"
    )
    print(head)
    worst = 0.0
    for name, edit in edits:
        t_cut, (new, result) = median_time(lambda e=edit: e.apply(d), args.repeats)
        t_check, report = median_time(lambda n=new, r=result: check_edit(n, r), args.repeats)
        t_work, _ = median_time(lambda n=new: workload(n), args.repeats)
        t_full, full = median_time(lambda n=new: validate(n), args.repeats)
        t_over, _ = median_time(lambda n=new: naive_recompute(n), args.repeats)
        ours = t_cut + t_check + t_work
        naive = t_cut + t_full + t_over
        worst = max(worst, ours)
        flag = "PASS" if ours < TARGET_S else "FAIL"
        print(
            f"  {name:<24}{t_cut * 1e3:8.1f}{t_check * 1e3:8.1f}{t_work * 1e3:9.1f}{ours * 1e3:8.1f}   "
            f"{t_full * 1e3:9.1f}{t_over * 1e3:9.1f}{naive * 1e3:8.1f}{naive / ours:7.1f}  {flag}"
            f"   ({len(result.grids)} grids changed; check: {report.summary()}; "
            f"full, planner's rules: {adjust(full, new).summary()})"
        )
    split = edits[0][1]
    t_ov, pieces = median_time(lambda: overlay_split(d, split), args.repeats)
    t_ours, _ = median_time(lambda: split.apply(d), args.repeats)
    print(
        f"  the split alone: geopandas.overlay {t_ov * 1e3:.1f} ms ({len(pieces)} pieces, neighbours "
        f"not re-cut) against the exact server cut {t_ours * 1e3:.1f} ms"
    )
    print(f"  slowest edit: {worst * 1e3:.1f} ms (target {TARGET_S * 1e3:.0f} ms): "
          f"{'PASS' if worst < TARGET_S else 'FAIL'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
