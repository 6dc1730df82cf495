"""Benchmark of the grid locator against PostGIS, in the same run, on the same points.

Run from the repository root (PostgreSQL with PostGIS reachable; the script creates and drops its
own database)::

    .venv/bin/python bench/postgis_bench.py [--points N] [--seed S] [--admin-url URL] [--json PATH]

It seeds the bundled sample district through geogrid's own data layer (PostGIS geometry columns
with GiST indexes), then measures

1. bulk: ``Locator.locate_many`` on N random points over the district's bounding box against a
   PostGIS join ``ST_Covers(grid.geom, point.geom)`` over the same points already loaded into an
   indexed table (the load, a ``COPY``, is timed separately);
2. agreement of every answer;
3. single points: an in-process ``Locator.locate`` against one ``ST_Covers`` query per point over
   a local connection (p50/p99 over 2,000 points).

Exit status 1 if any answer differs.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import psycopg
from locate_bench import best_of  # bench/ is on sys.path when a benchmark is run

from geogrid.db import Store
from geogrid.locate import Locator
from geogrid.model import District, default_data_dir
from geogrid.service import seed

ADMIN_URL = os.environ.get(
    "GEOGRID_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SINGLE_POINTS = 2000


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument(
        "--admin-url", default=ADMIN_URL, help="PostgreSQL URL of a role that may create databases"
    )
    ap.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    args = ap.parse_args(argv)

    district = District.load(default_data_dir())
    locator = Locator(district).prepare()
    rng = np.random.default_rng(args.seed)
    minx, miny, maxx, maxy = district.outline.bounds
    xs, ys = rng.uniform(minx, maxx, args.points), rng.uniform(miny, maxy, args.points)

    name = f"geogrid_bench_{uuid.uuid4().hex[:10]}"
    base = args.admin_url.rsplit("/", 1)[0]
    with psycopg.connect(args.admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    figures: dict = {"points": args.points}
    try:
        store = Store(f"{base}/{name}")
        store.upgrade()
        version = seed(store, district)
        store.dispose()
        with psycopg.connect(f"{base}/{name}") as conn:
            figures.update(run(conn, version.id, locator, xs, ys))
    finally:
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    print(f"geogrid vs PostGIS — {args.points:,} random points over the district's bounding box\n")
    print(f"{'method':<52}{'time':>12}{'points/s':>14}")
    print(
        f"{'Locator.locate_many (in process, raw arrays)':<52}{figures['locate_many_s'] * 1e3:>10.1f} ms{args.points / figures['locate_many_s'] / 1e6:>11.2f} M/s"
    )
    print(
        f"{'PostGIS ST_Covers join, GiST (points preloaded)':<52}{figures['postgis_join_s'] * 1e3:>10.1f} ms{args.points / figures['postgis_join_s'] / 1e6:>11.2f} M/s"
    )
    print(f"{'  loading the points (COPY + index)':<52}{figures['postgis_load_s'] * 1e3:>10.1f} ms")
    print(
        f"\nspeed-up of locate_many over the PostGIS join: {figures['postgis_join_s'] / figures['locate_many_s']:.0f}×"
    )
    print(f"answers that differ: {figures['disagree']} of {args.points:,}")
    s, p = figures["single_inproc_us"], figures["single_postgis_us"]
    print(f"\nsingle point, p50 / p99: Locator.locate {s['p50']:.1f} / {s['p99']:.1f} µs;"
          f" one PostGIS query {p['p50']:.0f} / {p['p99']:.0f} µs (local socket)")  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 1 if figures["disagree"] else 0


def run(conn, version_id: int, locator: Locator, xs: np.ndarray, ys: np.ndarray) -> dict:
    out = {}
    t0 = time.perf_counter()
    conn.execute("CREATE TABLE pts (id integer primary key, lon float8, lat float8)")
    buf = io.StringIO()
    np.savetxt(
        buf,
        np.column_stack([np.arange(len(xs)), xs, ys]),
        fmt=["%d", "%.17g", "%.17g"],
        delimiter="\t",
    )
    with conn.cursor().copy("COPY pts (id, lon, lat) FROM STDIN") as copy:
        copy.write(buf.getvalue())
    conn.execute("ALTER TABLE pts ADD COLUMN geom geometry(Point, 4326)")
    conn.execute("UPDATE pts SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326)")
    conn.execute("CREATE INDEX ON pts USING GIST (geom)")
    conn.execute("ANALYZE pts")
    conn.execute("ANALYZE grids")
    conn.commit()
    out["postgis_load_s"] = time.perf_counter() - t0

    sql = (
        "SELECT p.id, g.code FROM pts p JOIN grids g ON g.version_id = %s AND g.level = 2 "
        "AND ST_Covers(g.geom, p.geom)"
    )
    out["postgis_join_s"], rows = best_of(lambda: conn.execute(sql, (version_id,)).fetchall())
    pg_codes = np.full(len(xs), None, dtype=object)
    for pid, code in rows:  # a point on a shared edge is covered by both: keep the smallest code
        if pg_codes[pid] is None or code < pg_codes[pid]:
            pg_codes[pid] = code
    out["locate_many_s"], located = best_of(lambda: locator.locate_many(xs, ys))
    out["disagree"] = int((located.grid2_codes != pg_codes).sum())

    pick = np.random.default_rng(1).choice(len(xs), SINGLE_POINTS, replace=False)
    one = "SELECT code FROM grids WHERE version_id = %s AND level = 2 AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY code LIMIT 1"
    pg_ns, py_ns = [], []
    for i in pick:
        x, y = float(xs[i]), float(ys[i])
        t0 = time.perf_counter_ns()
        conn.execute(one, (version_id, x, y)).fetchone()
        pg_ns.append(time.perf_counter_ns() - t0)
        t0 = time.perf_counter_ns()
        locator.locate(x, y)
        py_ns.append(time.perf_counter_ns() - t0)
    for key, ns in (("single_postgis_us", pg_ns), ("single_inproc_us", py_ns)):
        us = np.asarray(ns) / 1e3
        out[key] = {"p50": float(np.percentile(us, 50)), "p99": float(np.percentile(us, 99))}
    return out


if __name__ == "__main__":
    sys.exit(main())
