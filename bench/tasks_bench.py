"""Everyday tasks besides point location, each against the obvious alternative in the same run.

Run from the repository root::

    .venv/bin/python bench/tasks_bench.py [--singles N]

* **Search.** Building the search index of the sample (cold: no pinyin remembered) and the median
  time of typical queries, against a linear scan in Python over the same spellings (every name,
  code, address and pinyin form), which is what a first version would do.
* **Validation.** ``validate`` on the sample, and on the sample after a planner drags one vertex
  5 m into a neighbour, against the overlap check alone done the obvious way:
  ``geopandas.overlay(grids, grids, how="intersection")``.
* **Bulk API.** ``POST /api/v1/locate`` with 100,000 GeoJSON points through the Flask app (the
  test client: no network), against the same points sent one ``GET /api/v1/locate`` at a time
  (``--singles`` of them timed, default 2,000, and scaled to 100,000).

The figures depend on the load of the machine; the tests check what these tasks answer, not how
fast (timed assertions in tests are flaky on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from locate_bench import best_of  # bench/ is on sys.path when a benchmark is run

from geogrid import crs as _crs
from geogrid import search
from geogrid.model import District, default_data_dir
from geogrid.search import SearchIndex
from geogrid.validate import validate

QUERIES = ["x", "n", "1", "3", "南", "京", "号", "路", "xhsq", "xianlin", "320113005", "羊山北路"]


def best(fn, repeats: int = 3) -> float:
    return best_of(fn, repeats)[0]


def median_of(fn, repeats: int = 15) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def row(what: str, ours: float, theirs: float, alternative: str) -> None:
    print(
        f"  {what:<34} {ours * 1e3:9.2f} ms   {alternative:<40} {theirs * 1e3:10.2f} ms   {theirs / ours:7.1f}×"
    )


# ----------------------------------------------------------------------------- search
def bench_search(district: District) -> None:
    print("Search (sample: units, grids, roads, addresses)")

    def cold_build():
        search._run_readings.cache_clear()
        search._char_readings.cache_clear()
        return SearchIndex.from_district(district)

    build = best(cold_build)
    idx = SearchIndex.from_district(district)
    spellings = [
        (t, int(o)) for f in idx._fields for t, o in zip(f.text.tolist(), f.owner, strict=True)
    ]

    def scan(q: str) -> set[int]:
        q = search.normalize(q)
        return {owner for text, owner in spellings if q in text}

    print(
        f"  index build, cold                  {build * 1e3:9.1f} ms   ({len(idx)} entries, {len(spellings)} spellings)"
    )
    worst_ours = worst_scan = 0.0
    for q in QUERIES:
        ours = median_of(lambda q=q: idx.search(q))
        theirs = median_of(lambda q=q: scan(q))
        worst_ours, worst_scan = max(worst_ours, ours), max(worst_scan, theirs)
        row(f"query {q!r}", ours, theirs, "linear scan of every spelling")
    row("slowest query", worst_ours, worst_scan, "slowest scan")


# ----------------------------------------------------------------------------- validation
def dragged(district: District) -> District:
    """The sample after a planner drags one vertex of one grid 5 m outwards, into a neighbour."""
    g2 = district.grids2.copy()
    i, k = 40, 3
    poly = g2.geometry.iloc[i]
    coords = np.array(poly.exterior.coords)
    cx, cy = _crs.to_metric(*shapely.get_coordinates(shapely.centroid(poly))[0])
    x, y = _crs.to_metric(*coords[k])
    step = 5 / np.hypot(x - cx, y - cy)
    coords[k] = _crs.from_metric(x + (x - cx) * step, y + (y - cy) * step)
    g2.loc[i, "geometry"] = shapely.Polygon(coords)
    return District(
        district.code, district.name, district.grids1, g2, district.units, district.outline
    )


def bench_validation(district: District) -> None:
    print("Validation (all rules) against the overlap check alone, the obvious way")
    for label, d in (("sample", district), ("after a 5 m vertex drag", dragged(district))):
        report = validate(d)
        ours = best(lambda d=d: validate(d))
        g = d.grids2[["code", "geometry"]]
        theirs = best(lambda g=g: gpd.overlay(g, g, how="intersection", keep_geom_type=True))
        row(
            f"{label} ({len(report.errors)} errors)",
            ours,
            theirs,
            "geopandas.overlay(grids, grids)",
        )


# ----------------------------------------------------------------------------- bulk API
def bench_api(singles: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "web"))
    import web_support as web_fixtures  # the tests' installation: sample, one user per role

    url = f"sqlite:///{tempfile.mkdtemp()}/geogrid.sqlite3"
    web_fixtures.seed(url)
    site = web_fixtures.build_site(url)
    client, headers = site.client(), site.headers("dispatcher")
    rng = np.random.default_rng(11)
    district = site.service.current()[1].district
    minx, miny, maxx, maxy = district.outline.bounds
    n = site.app.config["MAX_LOCATE_POINTS"]
    xs, ys = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
    body = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "Point", "coordinates": [x, y]},
                }
                for x, y in zip(xs.tolist(), ys.tolist(), strict=True)
            ],
        }
    )
    client.get("/api/v1/locate?lon=118.93&lat=32.11", headers=headers)  # the locator is built

    def bulk():
        resp = client.post(
            "/api/v1/locate", data=body, headers={**headers, "Content-Type": "application/geo+json"}
        )
        assert resp.status_code == 200 and resp.get_json()["summary"]["points"] == n

    def one_by_one():
        for x, y in zip(xs[:singles].tolist(), ys[:singles].tolist(), strict=True):
            resp = client.get(f"/api/v1/locate?lon={x}&lat={y}", headers=headers)
            assert resp.status_code == 200

    print(
        f"Bulk API: {n:,} points in one POST against one GET per point ({singles:,} timed, scaled)"
    )
    ours = best(bulk, repeats=2)
    theirs = best(one_by_one, repeats=1) * n / singles
    row(f"POST /api/v1/locate, {n:,} points", ours, theirs, f"{n:,} × GET /api/v1/locate")
    site.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--singles", type=int, default=2000, help="single GETs to time (default 2,000)"
    )
    args = parser.parse_args(argv)
    district = District.load(default_data_dir())
    print(f"{'':36}{'geogrid':>12}   {'the obvious alternative':<40} {'':>13}   speed-up")
    bench_search(district)
    bench_validation(district)
    bench_api(args.singles)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
