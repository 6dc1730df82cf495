"""PostGIS: geometry columns in SRID 4326 with GiST indexes, so reports and checks can run in
SQL and agree with geogrid's own answers."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa
from geogrid_db_support import DISTRICT, POINT, report, sample

from geogrid.crs import area_m2
from geogrid.db import Store
from geogrid.service import Service


@pytest.fixture(scope="module")
def pg(pg_database):
    """A PostGIS store with the sample as version 1 (and an incident), and its Service."""
    store = Store(pg_database())
    svc = Service.bootstrap(store)
    report(svc, *POINT, category="0101")
    yield svc
    store.dispose()


def sql(store, text, **params):
    with store.engine.connect() as conn:
        return conn.execute(sa.text(text), params).all()


@pytest.mark.parametrize(
    ("table", "geometry_type"), [("grids", "GEOMETRY"), ("units", "POINT"), ("incidents", "POINT")]
)
def test_geometry_columns_are_srid_4326(pg, table, geometry_type):
    store = pg.store
    assert sql(store, "SELECT Find_SRID('public', :t, 'geom')", t=table)[0][0] == 4326
    [(srid, kind, dims)] = sql(
        store,
        "SELECT srid, type, coord_dimension FROM geometry_columns "
        "WHERE f_table_name = :t AND f_geometry_column = 'geom'",
        t=table,
    )
    assert (srid, kind, dims) == (4326, geometry_type, 2)
    # every stored value carries the SRID too
    [(n, bad)] = sql(
        store, f"SELECT count(*), count(*) FILTER (WHERE ST_SRID(geom) <> 4326) FROM {table}"
    )
    assert n > 0 and bad == 0


@pytest.mark.parametrize("table", ["grids", "units", "incidents"])
def test_geometry_columns_have_gist_indexes(pg, table):
    defs = [
        d for (d,) in sql(pg.store, "SELECT indexdef FROM pg_indexes WHERE tablename = :t", t=table)
    ]
    assert any("USING gist (geom)" in d for d in defs), defs
    # and the planner uses it for a point-in-polygon query
    with pg.store.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in conn.exec_driver_sql(
                f"EXPLAIN SELECT 1 FROM {table} "
                "WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(118.93, 32.11), 4326))"
            )
        )
    assert f"ix_{table}_geom" in plan, plan


def test_st_covers_agrees_with_the_locator(pg):
    """The owner found in SQL (the edge rule: smallest code among covering grids) is the
    locator's, for 2000 random points of the district's bounding box and every unit."""
    vid = pg.store.current_version(DISTRICT).id
    rng = np.random.default_rng(320113005)
    d = sample()
    x0, y0, x1, y1 = d.outline.bounds
    lons = np.concatenate([rng.uniform(x0, x1, 2000), d.units.geometry.x.to_numpy()])
    lats = np.concatenate([rng.uniform(y0, y1, 2000), d.units.geometry.y.to_numpy()])
    rows = sql(
        pg.store,
        """
        SELECT p.i, min(g.code)
        FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[]))
             WITH ORDINALITY AS p(lon, lat, i)
        LEFT JOIN grids g
          ON g.version_id = :vid AND g.level = 2
         AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))
        GROUP BY p.i ORDER BY p.i
        """,
        lons=lons.tolist(),
        lats=lats.tolist(),
        vid=vid,
    )
    in_sql = [code for _, code in rows]
    assert len(in_sql) == len(lons)
    located = [pg.locate(x, y).grid2 for x, y in zip(lons, lats, strict=True)]
    by_locator = [g.code if g else None for g in located]
    assert in_sql == by_locator
    inside = sum(c is not None for c in in_sql[:2000])
    assert 500 < inside < 2000  # the sample covers part of its bounding box, not all of it
    assert list(pg.locate_many(lons, lats).grid2_codes) == by_locator


def test_st_area_on_geography_matches_geogrid_areas(pg):
    vid = pg.store.current_version(DISTRICT).id
    rows = sql(
        pg.store,
        "SELECT code, ST_Area(geom::geography), ST_AsBinary(geom) FROM grids "
        "WHERE version_id = :vid AND level = 2 ORDER BY code",
        vid=vid,
    )
    assert len(rows) == 156
    import shapely

    ours = area_m2(shapely.from_wkb([bytes(r[2]) for r in rows]))
    theirs = np.array([r[1] for r in rows])
    np.testing.assert_allclose(theirs, ours, rtol=1e-3)
    total = sql(
        pg.store,
        "SELECT sum(ST_Area(geom::geography)) FROM grids WHERE version_id = :vid AND level = 0",
        vid=vid,
    )[0][0]
    assert total == pytest.approx(ours.sum(), rel=1e-3)


def test_units_stand_in_the_grid_they_name_in_sql(pg):
    """A check run in SQL: every unit is covered by the second-level grid it names (units on a
    shared edge are covered by both)."""
    vid = pg.store.current_version(DISTRICT).id
    [(n, misplaced)] = sql(
        pg.store,
        """
        SELECT count(*), count(*) FILTER (WHERE NOT ST_Covers(g.geom, u.geom))
        FROM units u JOIN grids g ON g.version_id = u.version_id AND g.code = u.grid
        WHERE u.version_id = :vid
        """,
        vid=vid,
    )
    assert (n, misplaced) == (1786, 0)
