"""Publishing a planner's draft, against the naive way, on SQLite and (with --postgres) PostGIS.

Run from the repository root::

    .venv/bin/python bench/publish_bench.py [--repeats 5] [--postgres postgresql://...]

Each run makes a fresh database with the sample district and a sample history of incidents
(``--incidents``, 20,000 by default, of which the recent ones are open), opens a draft, merges two
grids of the busiest community and times:

* **ours**: ``usecases.planning.publish``: the full validation of the drafted district (reused
  when the draft's state already holds it), the new version stored, units re-owned, open incidents
  re-routed and the roster updated, in one transaction;
* **naive**: the obvious way, in the same database: full re-validation, the units' grids found
  again with ``geopandas.sjoin``, the new version stored (``create_version``, which validates
  again), then each open incident re-located with the locator and updated one ``UPDATE`` at a
  time, and the version published.

The target (publish in under 1 s) only prints PASS or FAIL: the figures move with the machine's
load.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import geopandas as gpd
import sqlalchemy as sa

from geogrid.access import SYSTEM
from geogrid.db import Store
from geogrid.db import schema as t
from geogrid.incidents import OPEN
from geogrid.service import Service
from geogrid.usecases import incidents as uc_incidents
from geogrid.usecases import planning
from geogrid.validate import validate

TARGET_S = 1.0
A, B = "320113005007007", "320113005007006"


def fresh(url: str, incidents: int) -> Service:
    svc = Service.bootstrap(Store(url))
    uc_incidents.sample_history(svc, SYSTEM, count=incidents, seed=7, years=2)
    return svc


def ours(svc: Service) -> float:
    state = planning.open_draft(svc, SYSTEM, "bench")
    answer = planning.edit(svc, SYSTEM, state.draft.id, {"kind": "merge", "codes": [A, B]}, 0)
    t0 = time.perf_counter()
    planning.publish(svc, SYSTEM, state.draft.id, "bench", revision=answer.state.draft.revision)
    return time.perf_counter() - t0


def naive(svc: Service) -> float:
    state = planning.open_draft(svc, SYSTEM, "bench-naive")
    answer = planning.edit(svc, SYSTEM, state.draft.id, {"kind": "merge", "codes": [A, B]}, 0)
    district = answer.state.district
    t0 = time.perf_counter()
    validate(district)
    grids = district.grids2[["code", "geometry"]].rename(columns={"code": "grid_code"})
    joined = gpd.sjoin(district.units.drop(columns="grid"), grids, predicate="within")
    owner = joined[~joined.index.duplicated()]["grid_code"].reindex(district.units.index)
    district.units = district.units.assign(grid=owner.fillna(district.units["grid"]).values)
    store = svc.store
    version = store.create_version(district, actor="bench", note="naive")
    from geogrid.locate import Locator

    loc = Locator(district)
    I = t.incidents.c  # noqa: E741
    with store.engine.begin() as conn:
        rows = conn.execute(sa.select(I.id, I.lon, I.lat).where(I.state.in_(sorted(OPEN)))).all()
        for iid, lon, lat in rows:
            where = loc.locate(lon, lat, "wgs84")
            code = where.grid2.code if where.grid2 else None
            conn.execute(
                t.incidents.update()
                .where(I.id == iid)
                .values(grid_code=code, version_id=version.id)
            )
    store.publish(version.id, actor="bench", force=True)
    return time.perf_counter() - t0


def run(name: str, make_url, repeats: int, incidents: int) -> None:
    times = {"ours": [], "naive": []}
    for _ in range(repeats):
        for kind, fn in (("ours", ours), ("naive", naive)):
            svc = fresh(make_url(), incidents)
            try:
                times[kind].append(fn(svc))
            finally:
                svc.store.dispose()
    o, n = statistics.median(times["ours"]), statistics.median(times["naive"])
    verdict = "PASS" if o < TARGET_S else "FAIL"
    print(f"{name:<8} ours {o * 1000:8.1f} ms   naive {n * 1000:8.1f} ms   ×{n / o:4.1f}   "
          f"target < {TARGET_S:g} s: {verdict}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--incidents", type=int, default=20_000)
    ap.add_argument("--postgres", metavar="URL", help="an account allowed to create databases")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="geogrid-publish-bench-"))
    run(
        "SQLite",
        lambda: f"sqlite:///{tmp / uuid.uuid4().hex}.sqlite3",
        args.repeats,
        args.incidents,
    )
    if args.postgres:
        admin = sa.create_engine(
            "postgresql+psycopg://" + args.postgres.split("://", 1)[1], isolation_level="AUTOCOMMIT"
        )
        made: list[str] = []

        def make_pg() -> str:
            name = f"geogrid_bench_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            made.append(name)
            return args.postgres.rsplit("/", 1)[0] + "/" + name

        try:
            run("PostGIS", make_pg, args.repeats, args.incidents)
        finally:
            with admin.connect() as conn:
                for name in made:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
