"""dump/restore: the whole dataset through one GeoPackage, SQLite → PostGIS → SQLite, without
loss."""

from __future__ import annotations

from datetime import timedelta

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
import sqlalchemy as sa
from geogrid_db_support import (
    DISTRICT,
    OWNER,
    counts,
    move,
    sample,
    sibling,
    snapshot,
    store_incident,
    swap_grids,
    with_worker,
)

from geogrid import incidents as wf
from geogrid.db import Store
from geogrid.db import schema as t
from geogrid.db.dump import SEEDED, dump, restore
from geogrid.db.types import utcnow
from geogrid.errors import Conflict, DataError
from geogrid.incidents.photos import Photo
from geogrid.service import Service


def fill(store: Store) -> dict:
    """Everything the service keeps: versions (published, superseded, draft), a planner's draft
    with an undone edit, a roster with changes and a vacancy, users (one inactive), tokens (one
    revoked), incidents with logs."""
    Service.bootstrap(store)
    d1 = sample()
    other = sibling(d1)
    d2 = with_worker(swap_grids(d1), other, "新网格员", None)
    v2 = store.publish(store.create_version(d2, actor="planner", note="调整").id, actor="chief")
    store.create_version(d1, actor="planner", note="草稿 draft", meta={"来源": "测试", "n": 1.5})
    draft = store.create_draft(DISTRICT, v2.id, "规划草稿", actor="planner")
    for k, name in enumerate(("新名", "再改")):
        edit = {"kind": "rename", "code": other, "name": name}
        store.append_edit(draft.id, edit, actor="planner", revision=k)
    store.undo_edit(draft.id, actor="planner")
    store.assign(DISTRICT, OWNER, "worker", "王新", "13800000001", actor="disp")
    store.assign(DISTRICT, other, "worker", None, actor="disp")  # vacant
    admin = store.create_user("admin", "long-enough-pw", "admin", display_name="管理员")
    gone = store.create_user("gone", "long-enough-pw", "worker", grid_code=OWNER)
    with store.engine.begin() as conn:
        conn.execute(t.users.update().where(t.users.c.id == gone.id).values(active=False))
    token = store.create_token(admin.id, "desk", actor="admin")
    store.user_for_token(token)  # sets last_used_at
    store.create_token(admin.id, "old", actor="admin")
    store.revoke_token(store.tokens(admin.id)[1]["id"], actor="admin")
    store.start_session(admin.id)
    store.end_session(store.start_session(admin.id))
    a = store_incident(
        store, v2.id, grid_code=other, category="0601", description="井盖缺失\n第二行",
        reporter="王女士", reporter_contact="138 0000 0000",
        input={"x": 118.935, "y": 32.108, "crs": "gcj02"}, due_at=utcnow() + timedelta(days=2),
    )  # fmt: skip
    store_incident(
        store, v2.id, lon=118.0, lat=32.0, grid_code=None, grid1_code=None, channel="api"
    )
    for s in (wf.DISPATCHED, wf.RESOLVED, wf.CLOSED):
        a = move(store, a, s, actor="worker", note=f"→{s}")
    store.add_photos(a, [Photo("0f" * 16 + ".jpg", "image/jpeg", 2048, 640, 480)], actor="worker")
    return {"token": token, "v2": v2}


def assert_same_data(a: Store, b: Store) -> None:
    sa_, sb = snapshot(a), snapshot(b)
    for table in t.TABLES:
        assert sa_[table.name] == sb[table.name], table.name


def answers(svc: Service, lons, lats) -> list:
    located = svc.locate_many(lons, lats)
    single = [svc.locate(x, y).to_dict() for x, y in zip(lons[:40], lats[:40], strict=True)]
    return [list(located.grid2_codes), single]


def test_sqlite_to_postgis_to_sqlite_without_loss(tmp_path, pg_database):
    src = Store(f"sqlite:///{tmp_path / 'src.sqlite3'}")
    pg = Store(pg_database())
    dst = Store(f"sqlite:///{tmp_path / 'dst.sqlite3'}")
    try:
        made = fill(src)
        n1 = dump(src, tmp_path / "one.gpkg")
        assert n1 == counts(src)
        assert all(n1[k] > 0 for k in n1), n1
        assert restore(pg, tmp_path / "one.gpkg") == n1
        assert_same_data(src, pg)
        # the spatial tables are real layers of the GeoPackage, readable by any GIS
        grids = gpd.read_file(tmp_path / "one.gpkg", layer="grids")
        assert grids.crs.to_epsg() == 4326 and len(grids) == n1["grids"]
        assert dump(pg, tmp_path / "two.gpkg") == n1
        assert restore(dst, tmp_path / "two.gpkg") == n1
        assert_same_data(src, dst)

        # the restored databases answer as the original does
        rng = np.random.default_rng(5)
        lons, lats = rng.uniform(118.88, 118.99, 300), rng.uniform(32.07, 32.15, 300)
        want = answers(Service(src), lons, lats)
        assert answers(Service(pg), lons, lats) == want
        assert answers(Service(dst), lons, lats) == want
        v1 = src.version_by_number(DISTRICT, 1)
        for s in (pg, dst):
            assert s.version_at(DISTRICT, v1.published_at) == v1
        for s in (pg, dst):
            assert s.user_for_token(made["token"]).username == "admin"
            assert s.authenticate("admin", "long-enough-pw").username == "admin"
            assert s.authenticate("gone", "long-enough-pw") is None
            assert s.current_version(DISTRICT) == src.current_version(DISTRICT)

        # and keep working: new rows get fresh keys (PostgreSQL sequences were moved on)
        for s in (pg, dst):
            before = counts(s)
            s.create_user("new", "long-enough-pw", "worker")
            draft = s.create_version(with_worker(sample(), OWNER, "甲", None), actor="p")
            assert draft.number == 4
            s.publish(draft.id, actor="p", force=True)
            s.assign(DISTRICT, OWNER, "worker", "乙", actor="disp")
            inc = store_incident(s, draft.id, actor="d")
            move(s, inc, wf.DISPATCHED, actor="d")
            after = counts(s)
            assert all(after[k] >= before[k] for k in after)
            assert after["incidents"] == before["incidents"] + 1
    finally:
        for s in (src, pg, dst):
            s.dispose()


def test_restore_needs_an_empty_database(seeded, tmp_path):
    store, v1 = seeded
    dump(store, tmp_path / "d.gpkg")
    before = snapshot(store)
    with pytest.raises(Conflict, match="not empty"):
        restore(store, tmp_path / "d.gpkg")
    assert snapshot(store) == before


def test_restore_refuses_a_database_with_users_only(store, tmp_path):
    store.create_user("admin", "long-enough-pw", "admin")
    src = Store(f"sqlite:///{tmp_path / 'src.sqlite3'}")
    try:
        src.upgrade()
        src.create_user("other", "long-enough-pw", "admin")
        dump(src, tmp_path / "d.gpkg")
    finally:
        src.dispose()
    before = snapshot(store)
    try:
        with pytest.raises(Conflict):
            restore(store, tmp_path / "d.gpkg")
    finally:
        assert snapshot(store) == before


def test_restore_rejects_what_is_not_a_dump(store, tmp_path):
    garbage = tmp_path / "garbage.gpkg"
    garbage.write_bytes(b"PK\x03\x04 this is not a GeoPackage" * 100)
    other = tmp_path / "other.gpkg"  # a GeoPackage, but not a dump
    pyogrio.write_dataframe(
        gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(1, 2)], crs=4326), other
    )
    wrong = tmp_path / "wrong.gpkg"  # a dump of another format version
    pyogrio.write_dataframe(
        gpd.pd.DataFrame({"json": ['{"format": "geogrid-dump/99", "tables": {}}']}),
        wrong,
        layer="geogrid_dump",
        driver="GPKG",
    )
    for path in (garbage, other, wrong, tmp_path / "missing.gpkg"):
        with pytest.raises(DataError):
            restore(store, path)
    assert nonempty(counts(store)) == SEEDED


def nonempty(counts: dict) -> set[str]:
    return {name for name, n in counts.items() if n}


def test_dump_and_restore_an_empty_database(store, tmp_path, db_url):
    assert nonempty(dump(store, tmp_path / "empty.gpkg")) == SEEDED
    other = Store(f"sqlite:///{tmp_path / 'again.sqlite3'}")
    try:
        assert nonempty(restore(other, tmp_path / "empty.gpkg")) == SEEDED
        with other.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(t.grids)).scalar() == 0
    finally:
        other.dispose()


def test_dump_is_one_snapshot_while_another_process_publishes(seeded, db_url, tmp_path, request):
    """A publish committed while a dump is being written is either wholly in it or not at all."""
    store, v1 = seeded
    draft = store.create_version(with_worker(swap_grids(sample()), OWNER, "甲", None), actor="p")
    before = snapshot(store)
    other = Store(db_url)
    fired = []

    def publish_meanwhile(conn, cursor, statement, params, context, executemany):
        if statement.startswith("SELECT versions.") and not fired:
            fired.append(other.publish(draft.id, actor="other"))

    sa.event.listen(store.engine, "after_cursor_execute", publish_meanwhile)
    try:
        dump(store, tmp_path / "d.gpkg")
    finally:
        sa.event.remove(store.engine, "after_cursor_execute", publish_meanwhile)
        other.dispose()
    assert fired, "the publish did not happen during the dump"
    after = snapshot(store)
    assert after != before
    copy = Store(f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    try:
        restore(copy, tmp_path / "d.gpkg")
        got = snapshot(copy)
        assert got in (before, after), "the dump holds a state that never existed"
    finally:
        copy.dispose()
