"""A district stored as a version loads back exactly as it was, on both backends."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from geogrid_db_support import sample

from geogrid.db import schema as t
from geogrid.errors import NotFound
from geogrid.model import GRID1_COLUMNS, GRID2_COLUMNS, UNIT_COLUMNS
from geogrid.validate import validate

ODD_NAME = "仙林\"湖\"畔 '小区'\n第二行 — ✓ 🏠"


def awkward_sample():
    """The sample with the values a lossy store would get wrong: missing text, zero and missing
    integers, quotes, newlines and characters outside the BMP."""
    d = sample()
    u = d.units
    u.loc[0, ["address", "head", "head_phone"]] = None
    u.loc[1, "name"] = ODD_NAME
    u.loc[2, "households"] = 0
    u.loc[2, "residents"] = 2_000_000_000
    u.loc[3, ["households", "residents"]] = [pd.NA, 17]
    g2 = d.grids2
    g2.loc[0, "worker_phone"] = None
    g2.loc[1, "kind"] = None
    g2.loc[2, "name"] = ODD_NAME
    d.grids1.loc[0, "leader_title"] = None
    assert validate(d).ok
    return d


def records(frame, columns) -> list[dict]:
    """Rows sorted by code, missing values as None, integers as int."""
    out = []
    for rec in frame[columns].to_dict("records"):
        out.append({k: (None if v is None or v is pd.NA else v) for k, v in rec.items()})
    return sorted(out, key=lambda r: r["code"])


def geoms(frame) -> list:
    return list(frame.sort_values("code").geometry.values)


def assert_same_geometries(a: list, b: list) -> None:
    assert len(a) == len(b)
    assert shapely.equals_exact(a, b, tolerance=0).all()
    assert [shapely.to_wkb(g) for g in a] == [shapely.to_wkb(g) for g in b]


def test_load_district_gives_back_exactly_what_was_stored(store):
    d = awkward_sample()
    v = store.publish(store.create_version(d, actor="planner").id, actor="planner")
    got = store.load_district(v.id)
    assert (got.code, got.name, got.meta) == (d.code, d.name, d.meta)
    assert got.name == "仙林街道" and "示例数据" in got.meta["note"]
    assert_same_geometries([got.outline], [d.outline])
    for layer, cols in (("grids1", GRID1_COLUMNS), ("grids2", GRID2_COLUMNS)):
        a, b = getattr(got, layer), getattr(d, layer)
        assert list(a.columns) == list(b.columns)
        assert records(a, cols) == records(b, cols), layer
        assert_same_geometries(geoms(a), geoms(b))
    a, b = got.units, d.units
    assert list(a.columns) == list(b.columns)
    assert (a.dtypes == b.dtypes).all(), (a.dtypes, b.dtypes)
    assert str(a["households"].dtype) == "Int64"
    assert records(a, UNIT_COLUMNS) == records(b, UNIT_COLUMNS)
    assert_same_geometries(geoms(a), geoms(b))
    odd = a.loc[a["code"] == d.units.loc[1, "code"]].iloc[0]
    assert odd["name"] == ODD_NAME
    big = a.loc[a["code"] == d.units.loc[2, "code"]].iloc[0]
    assert (big["households"], big["residents"]) == (0, 2_000_000_000)
    assert validate(got).ok
    # one row per grid of either level, plus the outline
    with store.engine.connect() as conn:
        n = conn.execute(
            sa.select(sa.func.count()).select_from(t.grids).where(t.grids.c.version_id == v.id)
        ).scalar_one()
    assert n == 1 + len(d.grids1) + len(d.grids2)


def test_load_district_of_unknown_version(store):
    with pytest.raises(NotFound):
        store.load_district(1)
