"""The live feed in the database (geogrid.db.feed) on both backends: every event carries its
incident's scope, the migration backfills it, reads after an id in scope, and on PostgreSQL
concurrent writers never make a reader skip an event (the advisory lock; see the module)."""

from __future__ import annotations

import random
import threading
import time

import pytest
import sqlalchemy as sa
from alembic import command
from geogrid_db_support import DISTRICT, OWNER, move, store_incident

from geogrid.db import schema as t
from geogrid.db.engine import _alembic_config

OTHER = "320113005001001"
OFFICE = "城管执法中队"


def events(store):
    e = t.incident_events.c
    with store.engine.connect() as conn:
        return [r._asdict() for r in conn.execute(sa.select(t.incident_events).order_by(e.id))]


def test_every_event_carries_its_incidents_scope(seeded):
    store, v1 = seeded
    a = store_incident(store, v1.id, worker="张三")
    b = store_incident(store, v1.id, grid_code=OTHER, worker="李四")
    a = move(store, a, "dispatched")
    a = store.apply(a, "escalate", {"state": "escalated", "office": OFFICE, "escalated_at": a.updated_at}, actor="disp")  # fmt: skip
    rows = events(store)
    assert [(r["incident_id"], r["action"]) for r in rows] == [
        (a.id, "report"), (b.id, "report"), (a.id, "dispatch"), (a.id, "escalate"),
    ]  # fmt: skip
    assert {r["district_code"] for r in rows} == {DISTRICT}
    assert [r["grid_code"] for r in rows] == [OWNER, OTHER, OWNER, OWNER]
    assert [r["worker"] for r in rows] == ["张三", "李四", "张三", "张三"]
    # the office only once the incident is escalated to it
    assert [r["office"] for r in rows] == [None, None, None, OFFICE]


def test_reads_after_an_id_in_scope(seeded):
    store, v1 = seeded
    assert store.feed_last(DISTRICT) == 0
    incs = [store_incident(store, v1.id, grid_code=g) for g in (OWNER, OTHER, OWNER, OTHER)]
    ids = [r["id"] for r in events(store)]
    last = store.feed_last(DISTRICT)
    assert last == ids[-1] and store.feed_last("999") == 0
    got = store.feed_after(DISTRICT, ids[0])
    assert [r["id"] for r in got] == ids[1:]
    assert set(got[0]) == {"id", "incident_id", "action", "from_state", "to_state", "grid_code", "worker", "office", "at", "actor"}  # fmt: skip
    mine = store.feed_after(DISTRICT, 0, grids=frozenset({OWNER}))
    assert [r["incident_id"] for r in mine] == [incs[0].id, incs[2].id]
    assert store.feed_after(DISTRICT, 0, limit=2) == store.feed_after(DISTRICT, 0)[:2]
    assert store.feed_after(DISTRICT, 0, office=OFFICE) == []
    assert store.feed_after("999", 0) == []
    assert store.feed_has(DISTRICT, ids[0]) and not store.feed_has(DISTRICT, last + 1)
    assert not store.feed_has("999", ids[0]) and not store.feed_has(DISTRICT, 2**40)


def test_bulk_history_and_reroutes_carry_the_scope(seeded):
    store, v1 = seeded
    now = store.current_version(DISTRICT).published_at
    inc = {
        "district_code": DISTRICT, "version_id": v1.id, "lon": 118.93, "lat": 32.11,
        "grid_code": OTHER, "grid1_code": "320113005001", "category": "0101", "description": "",
        "channel": "phone", "state": "escalated", "recurrences": 0, "worker": "王五",
        "office": OFFICE, "escalated_at": now, "created_at": now, "updated_at": now,
        "created_by": "sample",
    }  # fmt: skip
    cols = {c.name for c in t.incidents.columns} - {"id", "geom"}
    inc = {c: inc.get(c) for c in cols} | {"recurrences": 0}
    ev = {"at": now, "actor": "sample", "action": "report", "from_state": None, "to_state": "escalated", "note": "", "detail": {}}  # fmt: skip
    assert store.insert_incidents(DISTRICT, [(inc, [ev, ev])], actor="sample") == 1
    rows = events(store)
    assert [(r["grid_code"], r["worker"], r["office"]) for r in rows] == [
        (OTHER, "王五", OFFICE)
    ] * 2


def test_the_migration_backfills_the_scope(seeded):
    store, v1 = seeded
    a = move(store, store_incident(store, v1.id, worker="张三"), "dispatched")
    store_incident(store, v1.id, grid_code=OTHER)
    before = events(store)
    cfg = _alembic_config()
    with store.engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    cols = {c["name"] for c in sa.inspect(store.engine).get_columns("incident_events")}
    assert "grid_code" not in cols and "district_code" not in cols
    store.engine.dispose()
    store.upgrade()
    after = events(store)
    assert after == before  # the same scope, now taken from the incidents
    assert [r["grid_code"] for r in after] == [OWNER, OWNER, OTHER]
    assert after[0]["incident_id"] == a.id and after[0]["worker"] == "张三"


def _race(store, v1, writers=6, steps=12):
    """Writers apply steps concurrently, each transaction sleeping a little after writing its
    event (a commit that comes late), while a reader follows the feed by ``id > last``.
    Returns (ids the reader saw, ids written)."""
    incs = [store_incident(store, v1.id) for _ in range(writers)]
    start = store.feed_last(DISTRICT)
    done = threading.Event()
    seen: list[int] = []

    def reader():
        last = start
        while True:
            finished = done.is_set()
            for r in store.feed_after(DISTRICT, last):
                seen.append(r["id"])
                last = r["id"]
            if finished:
                return
            time.sleep(0.002)

    def writer(inc, rng):
        for _ in range(steps):
            inc = store.apply(
                inc, "photo", {}, actor="w", also=lambda conn, now: time.sleep(rng.random() * 0.02)
            )

    r = threading.Thread(target=reader)
    r.start()
    ws = [threading.Thread(target=writer, args=(i, random.Random(n))) for n, i in enumerate(incs)]
    for w in ws:
        w.start()
    for w in ws:
        w.join()
    done.set()
    r.join()
    written = [x["id"] for x in store.feed_after(DISTRICT, start, limit=10**6)]
    return seen, written


@pytest.mark.parametrize("db_url", ["postgis"], indirect=True)
def test_concurrent_writers_never_make_a_reader_skip_an_event(seeded):
    """With ``feed.SERIALISE`` off this fails (the reader skips ids committed late)."""
    store, v1 = seeded
    seen, written = _race(store, v1)
    assert len(written) == 6 * 12
    assert seen == written
