"""Benchmark of the grid locator (geogrid.locate.Locator) against geopandas and shapely.

Run from the repository root::

    .venv/bin/python bench/locate_bench.py [--points N] [--seed S] [--json PATH]

In one run, on the same random points, it measures:

1. build time of the Locator (lookup table) and of its distance lists (``prepare()``);
2. bulk throughput of ``Locator.locate_many`` on N uniform random points over the district's
   bounding box (best of 3), against ``geopandas.sjoin(..., predicate="within")`` (with and
   without building the points GeoDataFrame) and ``shapely.STRtree.query(..., "within")``;
3. agreement of every answer of ``locate_many`` with sjoin's (and STRtree's); a point exactly on
   a grid edge is the only allowed difference (the locator applies its edge rule, "within" says
   no grid);
4. latency percentiles of single-point ``Locator.locate`` calls;
5. PASS/FAIL per target and machine facts.

Exit status 1 if an answer differs from sjoin's for a point that is not on a grid edge (or that
breaks the edge rule); timing targets only print FAIL (this is a shared, noisy machine). See
bench/README.md for how to read the output.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geogrid.locate import Locator
from geogrid.model import District, default_data_dir

#: Targets the benchmark checks.
TARGET_RATIO = 40.0  # locate_many must be at least this many times faster than sjoin alone
TARGET_P99_US = 20.0  # single-point locate p99 latency (µs), both point sets

REPEATS = 3  # bulk timings: best of this many
LATENCY_POINTS = 100_000
LATENCY_WARMUP = 5_000
LATENCY_PASSES = 2  # per point, the minimum over the passes
SHOW_DISAGREEMENTS = 5  # per baseline


# ----------------------------------------------------------------------------- helpers
def best_of(fn, repeats: int = REPEATS) -> tuple[float, object]:
    """Best wall time (s) of ``repeats`` calls of ``fn`` and the last call's result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        result = None  # let the previous result go before timing the next call
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def percentiles_us(ns: np.ndarray) -> dict:
    """p50/p90/p99/max and mean of nanosecond samples, in microseconds."""
    p50, p90, p99 = np.percentile(ns, [50, 90, 99]) / 1000.0
    return {
        "p50": float(p50),
        "p90": float(p90),
        "p99": float(p99),
        "max": float(ns.max() / 1000.0),
        "mean": float(ns.mean() / 1000.0),
        "n": int(len(ns)),
    }


def table(headers: list[str], rows: list[list], aligns: str | None = None) -> str:
    """A plain-text table; ``aligns`` is one of 'l'/'r' per column (default: first left)."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    aligns = aligns or "l" + "r" * (len(headers) - 1)

    def fmt(r):
        return "  ".join(
            c.ljust(w) if a == "l" else c.rjust(w)
            for c, w, a in zip(r, widths, aligns, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(cells[0]), rule, *(fmt(r) for r in cells[1:])])


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 76 - len(title)))


def machine_facts() -> dict:
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        affinity = None
    model = platform.processor() or None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "cpu_model": model,
        "load_avg_1_5_15": [round(v, 2) for v in os.getloadavg()]
        if hasattr(os, "getloadavg")
        else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "shapely": shapely.__version__,
        "geos": shapely.geos_version_string,
        "geopandas": gpd.__version__,
    }


# ----------------------------------------------------------------------------- 1. build
def bench_build(data_dir: Path) -> tuple[District, Locator, dict]:
    t0 = time.perf_counter()
    district = District.load(data_dir)
    t_load = time.perf_counter() - t0

    t0 = time.perf_counter()
    locator = Locator(district)
    t_table = time.perf_counter() - t0

    # The first single-point locate() builds the distance lists; build them explicitly here so
    # that neither the bulk nor the latency figures include it.
    t0 = time.perf_counter()
    locator.prepare()
    t_prox = time.perf_counter() - t0

    # The service calls gc.collect(); gc.freeze() after loading a boundary version: the locator's
    # many long-lived objects (ray and distance-list tuples, Grid records) then sit in the
    # permanent generation, so the cyclic collector no longer traverses them on every full
    # collection, which would otherwise add milliseconds of pause to an unlucky request. The
    # benchmark does the same so its latencies are the service's.
    gc.collect()
    gc.freeze()

    t0 = time.perf_counter_ns()
    locator.locate(*map(float, district.grids2.geometry.iloc[0].representative_point().coords[0]))
    t_first = (time.perf_counter_ns() - t0) / 1e3

    stats = locator.table_stats()
    return (
        district,
        locator,
        {
            "load_district_s": t_load,
            "locator_table_s": t_table,
            "distance_lists_s": t_prox,
            "first_locate_after_build_us": t_first,
            "grids2": len(district.grids2),
            "table": stats,
            "frozen_objects": gc.get_freeze_count(),
        },
    )


def print_build(b: dict) -> None:
    section("1. Build")
    s = b["table"]
    print(
        table(
            ["step", "time"],
            [
                ["District.load (boundaries/)", f"{b['load_district_s'] * 1e3:9.1f} ms"],
                ["Locator(district)  (lookup table)", f"{b['locator_table_s'] * 1e3:9.1f} ms"],
                [
                    "Locator.prepare()  (distance lists)",
                    f"{b['distance_lists_s'] * 1e3:9.1f} ms",
                ],
                ["first locate() after both", f"{b['first_locate_after_build_us']:9.1f} µs"],
            ],
        )
    )
    print(
        f"{b['grids2']} second-level grids, {s['segments']} unique boundary segments; table "
        f"{s['nx']}×{s['ny']} cells, {s['mixed_cells']} ({s['mixed_share']:.2%}) crossed by an "
        f"edge; gc.freeze() after the build: {b['frozen_objects']} objects frozen."
    )


# ----------------------------------------------------------------------------- 2. bulk
def bench_bulk(locator: Locator, grids2: gpd.GeoDataFrame, xs: np.ndarray, ys: np.ndarray) -> dict:
    n = len(xs)
    crs = grids2.crs
    polys = np.asarray(grids2.geometry.values, dtype=object)

    t_locate, located = best_of(lambda: locator.locate_many(xs, ys))

    t_points, points_arr = best_of(lambda: gpd.points_from_xy(xs, ys, crs=crs))
    points_gdf = gpd.GeoDataFrame(geometry=points_arr)

    # geopandas does "within" as "contains" with the spatial index on the *points* and caches
    # that index on the points' GeometryArray. A fresh frame per repetition (built outside the
    # timer, sharing the same shapely points) makes every timed call pay for the index, as a
    # call on new points does; the cached case is reported separately.
    def sjoin_fresh():
        frame = gpd.GeoDataFrame(geometry=points_arr.copy())
        t0 = time.perf_counter()
        out = gpd.sjoin(frame, grids2, predicate="within", how="left")
        return time.perf_counter() - t0, out

    t_sjoin, joined = float("inf"), None
    for _ in range(REPEATS):
        joined = None  # keep one result at a time
        t, joined = sjoin_fresh()
        t_sjoin = min(t_sjoin, t)

    gpd.sjoin(points_gdf, grids2, predicate="within", how="left")  # builds and caches the index
    t_sjoin_cached, _ = best_of(
        lambda: gpd.sjoin(points_gdf, grids2, predicate="within", how="left")
    )

    t_sjoin_full, _ = best_of(
        lambda: gpd.sjoin(
            gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys, crs=crs)),
            grids2,
            predicate="within",
            how="left",
        )
    )

    points_geoms = np.asarray(points_arr, dtype=object)
    t_strtree, pairs = best_of(
        lambda: shapely.STRtree(polys).query(points_geoms, predicate="within")
    )

    return {
        "n": n,
        "times_s": {
            "locate_many": t_locate,
            "sjoin": t_sjoin,
            "sjoin_cached_index": t_sjoin_cached,
            "points_from_xy_plus_sjoin": t_sjoin_full,
            "points_from_xy": t_points,
            "strtree_query": t_strtree,
        },
        "_located": located,
        "_joined": joined,
        "_strtree_pairs": pairs,
    }


def print_bulk(bulk: dict) -> dict:
    section(f"2. Bulk: {bulk['n']:,} uniform random points over the district's bounding box")
    n, t = bulk["n"], bulk["times_s"]
    base = t["locate_many"]
    labels = [
        ("locate_many", "Locator.locate_many(xs, ys)   [raw arrays]"),
        ("sjoin", "gpd.sjoin(within), points frame prebuilt"),
        ("sjoin_cached_index", "  same, points' index already cached"),
        ("points_from_xy_plus_sjoin", "points_from_xy + GeoDataFrame + sjoin"),
        ("strtree_query", "STRtree(polys).query(points, 'within')"),
        ("points_from_xy", "  (points_from_xy alone)"),
    ]
    rows = []
    ratios = {}
    for key, label in labels:
        ratios[key] = t[key] / base
        rows.append(
            [
                label,
                f"{t[key] * 1e3:.1f} ms",
                f"{n / t[key] / 1e6:.2f} M/s",
                "—" if key == "locate_many" else f"{ratios[key]:.1f}×",
            ]
        )
    print(f"best of {REPEATS} for each; speed-up = time of the row / time of locate_many")
    print(table(["method", "time", "points/s", "speed-up"], rows))
    print(
        "sjoin 'prebuilt' excludes creating the points but includes the spatial index geopandas "
        "builds on them\n(a fresh frame per repetition); the 'cached' row repeats the join on one "
        "frame, whose index\ngeopandas keeps. STRtree times include building the tree on the "
        f"{len(bulk['_located'].locator.grids)} grids; points prebuilt."
    )
    return {k: v for k, v in ratios.items() if k != "locate_many"}


# ----------------------------------------------------------------------------- 3. answers
def sjoin_codes(joined: gpd.GeoDataFrame, n: int) -> tuple[np.ndarray, int]:
    """Per point, sjoin's grid code (None when within no grid), and the number of points that
    matched more than one grid (then the smallest code, as the edge rule would pick)."""
    codes = np.full(n, None, dtype=object)
    hit = joined[joined["index_right"].notna()]
    multi = int(hit.index.duplicated().sum())
    first = hit["code"].groupby(level=0).min()
    codes[first.index.to_numpy()] = first.to_numpy()
    return codes, multi


def strtree_codes(pairs: np.ndarray, grid_codes: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    codes = np.full(n, None, dtype=object)
    s = pd.Series(grid_codes[pairs[1]], index=pairs[0])
    multi = int(s.index.duplicated().sum())
    first = s.groupby(level=0).min()
    codes[first.index.to_numpy()] = first.to_numpy()
    return codes, multi


def classify(
    idx: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    ours: np.ndarray,
    theirs: np.ndarray,
    grids2: gpd.GeoDataFrame,
) -> list[dict]:
    """Explain each disagreement: a point on a grid boundary is allowed to differ ("within" puts
    it in no grid) provided the locator chose the smallest code among the grids covering it."""
    polys = np.asarray(grids2.geometry.values, dtype=object)
    codes = grids2["code"].to_numpy(dtype=object)
    pts = shapely.points(xs[idx], ys[idx])
    # per disagreeing point: grids whose boundary it lies on, and grids covering it (intersects)
    on_edge = [[] for _ in idx]
    covering = [[] for _ in idx]
    for tree_geoms, out in ((shapely.boundary(polys), on_edge), (polys, covering)):
        pi, gi = shapely.STRtree(tree_geoms).query(pts, predicate="intersects")
        for p, g in zip(pi.tolist(), gi.tolist(), strict=True):
            out[p].append(codes[g])
    result = []
    for k, i in enumerate(idx.tolist()):
        expected = min(covering[k]) if covering[k] else None
        result.append(
            {
                "i": i,
                "lon": float(xs[i]),
                "lat": float(ys[i]),
                "locator": ours[i],
                "other": theirs[i],
                "on_edge_of": sorted(on_edge[k]),
                "edge_rule_code": expected,
                "explained": bool(on_edge[k]) and ours[i] == expected,
            }
        )
    return result


def check_answers(bulk: dict, xs: np.ndarray, ys: np.ndarray, grids2: gpd.GeoDataFrame) -> dict:
    n = bulk["n"]
    ours = bulk["_located"].grid2_codes
    result = {}
    grid_codes = grids2["code"].to_numpy(dtype=object)
    others = {
        "sjoin": sjoin_codes(bulk["_joined"], n),
        "strtree": strtree_codes(bulk["_strtree_pairs"], grid_codes, n),
    }
    for name, (theirs, multi) in others.items():
        diff = np.flatnonzero(ours != theirs)
        details = classify(diff, xs, ys, ours, theirs, grids2)
        result[name] = {
            "compared": n,
            "inside": int(np.count_nonzero(theirs != None)),  # noqa: E711 (elementwise)
            "multi_match_points": multi,
            "disagreements": len(diff),
            "edge_points": sum(d["explained"] for d in details),
            "unexplained": sum(not d["explained"] for d in details),
            # a few examples, unexplained ones first
            "examples": sorted(details, key=lambda d: d["explained"])[:SHOW_DISAGREEMENTS],
        }
    result["locator_inside"] = int(np.count_nonzero(bulk["_located"].index >= 0))
    return result


def print_answers(ans: dict) -> None:
    section("3. Answers: locate_many vs sjoin (and STRtree), every point")
    rows = []
    for name in ("sjoin", "strtree"):
        a = ans[name]
        rows.append(
            [
                name,
                f"{a['compared']:,}",
                f"{a['inside']:,}",
                a["multi_match_points"],
                a["disagreements"],
                a["edge_points"],
                a["unexplained"],
            ]
        )
    print(
        table(
            [
                "vs",
                "points",
                "in a grid",
                "in 2+ grids",
                "disagree",
                "on an edge (ok)",
                "unexplained",
            ],
            rows,
        )
    )
    print(f"locate_many put {ans['locator_inside']:,} points in a grid.")
    for name in ("sjoin", "strtree"):
        for d in ans[name]["examples"]:
            tag = "edge, ok" if d["explained"] else "UNEXPLAINED"
            print(
                f"  [{name}] point {d['i']} ({d['lon']!r}, {d['lat']!r}): locator "
                f"{d['locator']}, {name} {d['other']}; on edge of {d['on_edge_of'] or 'none'}, "
                f"edge rule says {d['edge_rule_code']} — {tag}"
            )


# ----------------------------------------------------------------------------- 4. latency
def time_calls(fn, xs: list[float], ys: list[float]) -> np.ndarray:
    """Nanoseconds of each call fn(x, y), timed with perf_counter_ns around the call."""
    clock = time.perf_counter_ns
    out = np.empty(len(xs), dtype=np.int64)
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        t0 = clock()
        fn(x, y)
        out[i] = clock() - t0
    return out


def timer_overhead_ns(n: int = 100_000) -> float:
    clock = time.perf_counter_ns
    samples = np.empty(n, dtype=np.int64)
    for i in range(n):
        t0 = clock()
        samples[i] = clock() - t0
    return float(np.median(samples))


def bench_latency(locator: Locator, sets: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict:
    out = {"timer_overhead_ns": timer_overhead_ns(), "passes": LATENCY_PASSES}
    for name, (xs, ys) in sets.items():
        lx, ly = xs.tolist(), ys.tolist()  # plain floats: the service's hot path
        time_calls(locator.locate, lx[:LATENCY_WARMUP], ly[:LATENCY_WARMUP])  # warm-up
        passes = [time_calls(locator.locate, lx, ly) for _ in range(LATENCY_PASSES)]
        best = np.minimum.reduce(passes)
        matches = pd.Series([locator.locate(x, y).match for x, y in zip(lx, ly, strict=True)])
        out[name] = {
            "min_of_passes": percentiles_us(best),
            "per_pass": [percentiles_us(p) for p in passes],
            "matches": {str(k): int(v) for k, v in matches.value_counts().items()},
        }
    return out


def print_latency(lat: dict, labels: dict[str, str]) -> None:
    section("4. Single point: Locator.locate(lon, lat) latency")
    print(
        f"perf_counter_ns around each call (timer overhead ≈ {lat['timer_overhead_ns']:.0f} ns, "
        f"not subtracted); {LATENCY_WARMUP:,} warm-up calls;\n"
        f"timed {lat['passes']}× over the same points and, per point, the MINIMUM of the "
        f"{lat['passes']} passes is kept\n(to damp noise from other jobs on this shared machine); "
        "gc.freeze() after the build."
    )
    rows = []
    for name, label in labels.items():
        for tag, p in [("min of passes", lat[name]["min_of_passes"])] + [
            (f"pass {k + 1}", q) for k, q in enumerate(lat[name]["per_pass"])
        ]:
            rows.append(
                [
                    f"{label} — {tag}",
                    f"{p['n']:,}",
                    f"{p['p50']:.2f}",
                    f"{p['p90']:.2f}",
                    f"{p['p99']:.2f}",
                    f"{p['max']:.1f}",
                    f"{p['mean']:.2f}",
                ]
            )
    print(table(["points", "n", "p50 µs", "p90 µs", "p99 µs", "max µs", "mean µs"], rows))
    for name, label in labels.items():
        m = ", ".join(f"{k} {v:,}" for k, v in sorted(lat[name]["matches"].items()))
        print(f"{label}: {m}")


# ----------------------------------------------------------------------------- main
def random_points(rng: np.random.Generator, bounds, n: int) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = bounds
    return rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)


def points_inside(rng: np.random.Generator, outline, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uniform random points inside the district's outline (rejection sampling)."""
    xs, ys = np.empty(0), np.empty(0)
    while len(xs) < n:
        x, y = random_points(rng, outline.bounds, 2 * n)
        keep = shapely.contains_xy(outline, x, y)
        xs, ys = np.concatenate([xs, x[keep]]), np.concatenate([ys, y[keep]])
    return xs[:n], ys[:n]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--points", type=int, default=1_000_000, help="bulk points (default 1e6)")
    p.add_argument("--seed", type=int, default=20240601, help="random seed (default 20240601)")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write all figures as JSON")
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help="district directory (default: the bundled boundaries/)",
    )
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    facts = machine_facts()
    print(
        f"geogrid locator benchmark — {args.points:,} points, seed {args.seed}, "
        f"{time.strftime('%Y-%m-%d %H:%M:%S')}"
    )

    district, locator, build = bench_build(args.data or default_data_dir())
    print_build(build)
    grids2 = district.grids2[["code", "geometry"]]
    bounds = district.outline.bounds if district.outline is not None else grids2.total_bounds

    rng = np.random.default_rng(args.seed)
    xs, ys = random_points(rng, bounds, args.points)
    bulk = bench_bulk(locator, grids2, xs, ys)
    ratios = print_bulk(bulk)

    answers = check_answers(bulk, xs, ys, grids2)
    print_answers(answers)
    bulk_times = bulk["times_s"]
    del bulk  # the bulk results (1 M shapely points, frames) before timing single calls
    gc.collect()

    lat_rng = np.random.default_rng([args.seed, 1])
    sets = {
        "inside": points_inside(lat_rng, district.territory(), LATENCY_POINTS),
        "bbox": random_points(lat_rng, bounds, LATENCY_POINTS),
    }
    labels = {"inside": "inside the district", "bbox": "all, over the bounding box"}
    latency = bench_latency(locator, sets)
    print_latency(latency, labels)

    p99 = max(latency[k]["min_of_passes"]["p99"] for k in sets)
    unexplained = answers["sjoin"]["unexplained"] + answers["strtree"]["unexplained"]
    targets = {
        "bulk_ratio_vs_sjoin": {
            "value": ratios["sjoin"],
            "target": f">= {TARGET_RATIO:g}",
            "pass": ratios["sjoin"] >= TARGET_RATIO,
        },
        "single_p99_us": {
            "value": p99,
            "target": f"< {TARGET_P99_US:g}",
            "pass": p99 < TARGET_P99_US,
        },
        "answers_identical": {
            "value": unexplained,
            "target": "0 unexplained disagreements",
            "pass": unexplained == 0,
        },
    }

    section("5. Targets")
    rows = [
        [
            "locate_many vs sjoin alone",
            f"{ratios['sjoin']:.1f}×",
            targets["bulk_ratio_vs_sjoin"]["target"],
        ],
        [
            "single locate p99 (worse of the two sets, min of passes)",
            f"{p99:.2f} µs",
            targets["single_p99_us"]["target"],
        ],
        [
            "answers identical to sjoin/STRtree (edge points aside)",
            f"{unexplained} unexplained",
            "0",
        ],
    ]
    for row, t in zip(rows, targets.values(), strict=True):
        row.append("PASS" if t["pass"] else "FAIL")
    print(table(["target", "measured", "required", ""], rows, "lrrl"))
    print(
        f"(for reference: {ratios['sjoin_cached_index']:.1f}× against a repeated sjoin whose "
        f"points' index is cached, {ratios['points_from_xy_plus_sjoin']:.1f}× including "
        f"building the points, {ratios['strtree_query']:.1f}× against STRtree)"
    )

    section("Machine")
    for k, v in facts.items():
        print(f"{k:16} {v}")

    if args.json:
        report = {
            "args": {"points": args.points, "seed": args.seed},
            "machine": facts,
            "build": build,
            "bulk": {
                "n": args.points,
                "repeats": REPEATS,
                "times_s": bulk_times,
                "speedup": ratios,
            },
            "answers": answers,
            "latency": latency,
            "targets": targets,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        print(f"\nfigures written to {args.json}")

    return 0 if unexplained == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
