"""A sample history written in bulk, on SQLite and PostGIS: stored exactly as generated, read
back by the application (lists, filters, overdue flags, export), taken further by the real
workflow; refused over existing incidents unless replaced; and the command line."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import shapely
import sqlalchemy as sa
from click.testing import CliRunner
from geogrid_db_support import DISTRICT, POINT
from PIL import Image

from geogrid import incidents as wf
from geogrid import usecases
from geogrid.access import Actor
from geogrid.cli import main
from geogrid.db import Store
from geogrid.db import schema as t
from geogrid.errors import Conflict, Forbidden
from geogrid.incidents.policy import Policy
from geogrid.incidents.query import IncidentQuery
from geogrid.sample.incidents import generate
from geogrid.service import Service

U = usecases.incidents
ADMIN = Actor("admin", "admin")
END = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
ARGS = {"count": 1000, "seed": 4, "end": END, "years": 1}


@pytest.fixture
def svc(seeded, tmp_path):
    store, _ = seeded
    return Service(store, policy=Policy(photo_dir=tmp_path / "photos"))


@pytest.fixture
def sampled(svc):
    """The service with the sample history of ARGS written, and that history as generated."""
    assert U.sample_history(svc, ADMIN, **ARGS) == ARGS["count"]
    version, loc = svc.current()
    rows = list(generate(loc.district, svc.store.catalogue(), version_id=version.id, **ARGS))
    return svc, rows


def all_incidents(svc, **args):
    q = IncidentQuery.parse({"sort": "id", "limit": "1000", **args})
    return svc.store.search_incidents(DISTRICT, q, now=END)


def test_stored_exactly_as_generated(sampled):
    svc, rows = sampled
    total, stored = all_incidents(svc)
    assert total == len(stored) == len(rows)
    assert [i.id for i in stored] == sorted(i.id for i in stored)  # ids grow with time
    for inc, (row, _) in zip(stored, rows, strict=True):
        assert {k: getattr(inc, k) for k in row} == row
    for inc, (_, events) in list(zip(stored, rows, strict=True))[::25]:
        logged = svc.store.incident(inc.id).events
        assert [{k: e[k] for k in e if k != "id"} for e in logged] == events
    with svc.store.engine.connect() as conn:
        n_events = conn.execute(sa.select(sa.func.count()).select_from(t.incident_events))
        assert n_events.scalar_one() == sum(len(e) for _, e in rows)
        if svc.store.dialect == "postgresql":  # the geometry column is the point, in its grid
            outside = conn.execute(
                sa.text(
                    "SELECT count(*) FROM incidents i JOIN grids g ON g.version_id = i.version_id"
                    " AND g.code = i.grid_code WHERE NOT ST_Covers(g.geom, i.geom)"
                    " OR ST_X(i.geom) <> i.lon OR ST_Y(i.geom) <> i.lat OR ST_SRID(i.geom) <> 4326"
                )
            ).scalar_one()
            assert outside == 0
        else:
            geoms = conn.execute(
                sa.select(t.incidents.c.geom, t.incidents.c.lon, t.incidents.c.lat)
            )
            assert all(g.equals(shapely.Point(x, y)) for g, x, y in geoms)


def test_lists_filters_flags_and_export(sampled):
    svc, rows = sampled
    gen = [r for r, _ in rows]

    def count(**args):
        return all_incidents(svc, **args)[0]

    states = Counter(r["state"] for r in gen)
    for state, n in states.items():
        assert count(state=state) == n
    assert count(state="dispatched,handling,escalated") == sum(states[s] for s in wf.RUNNING)
    assert count(community="320113005003") == sum(r["grid1_code"] == "320113005003" for r in gen)
    assert count(category="08") == sum(r["category"].startswith("08") for r in gen)
    assert count(category="0504") == sum(r["category"] == "0504" for r in gen)
    assert count(q="井盖") == sum("井盖" in r["description"] for r in gen) > 0
    since, until = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)
    assert count(since=since.isoformat(), until=until.isoformat()) == sum(
        since <= r["created_at"] < until for r in gen
    )
    _, everything = all_incidents(svc)
    for now in (END, END + timedelta(days=3)):  # three days on, more are late
        late = [i.id for i in everything if i.overdue(now)]
        q = IncidentQuery.parse({"sort": "id", "limit": "1000", "overdue": "true"})
        _, flagged = svc.store.search_incidents(DISTRICT, q, now=now)
        assert late and [i.id for i in flagged] == late
    # a deep page through the use case, newest first
    total, page = U.search(svc, ADMIN, IncidentQuery.parse({"limit": "20", "offset": "500"}))
    newest_first = sorted(everything, key=lambda i: (i.created_at, i.id), reverse=True)
    assert total == len(gen) and [i.id for i in page] == [i.id for i in newest_first[500:520]]
    # a grid worker lists their own grid's only
    grid = gen[0]["grid_code"]
    worker = Actor("w", "worker", frozenset({grid}))
    total, _ = U.search(svc, worker, IncidentQuery.parse({}))
    assert total == sum(r["grid_code"] == grid for r in gen)
    data, _, _ = U.export(svc, ADMIN, IncidentQuery.parse({"state": "closed"}), "csv")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(table) == 1 + states["closed"]


def test_the_workflow_takes_sampled_incidents_further(sampled):
    svc, _ = sampled
    _, handling = all_incidents(svc, state="handling")
    inc = U.act(svc, ADMIN, handling[0].id, "resolve", note="已处置")
    assert inc.state == wf.RESOLVED and inc.events[-1]["action"] == "resolve"
    inc = U.act(svc, ADMIN, inc.id, "revisit", passed=True, satisfaction="满意")
    assert U.act(svc, ADMIN, inc.id, "close").state == wf.CLOSED
    _, closed = all_incidents(svc, state="closed")
    again = U.act(svc, ADMIN, closed[0].id, "reopen", note="问题再次出现")
    assert again.state == wf.DISPATCHED and again.recurrences == closed[0].recurrences + 1


def test_refused_over_existing_incidents_unless_replaced(svc):
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (0, 120, 0)).save(buf, "JPEG")
    real = U.report(svc, ADMIN, *POINT, category="0101", photos=[buf.getvalue()])
    photo_dir = svc.policy.photo_dir
    assert len(list(photo_dir.iterdir())) == 2  # the photo and its thumbnail
    with pytest.raises(Conflict, match="already has 1 incidents"):
        U.sample_history(svc, ADMIN, **ARGS)
    assert svc.store.count_incidents(DISTRICT) == 1
    with pytest.raises(Forbidden):
        U.sample_history(svc, Actor("disp", "dispatcher"), **ARGS, replace=True)
    assert U.sample_history(svc, ADMIN, **ARGS, replace=True) == ARGS["count"]
    _, stored = all_incidents(svc)
    assert len(stored) == ARGS["count"]
    assert real.created_by == "admin" and all(i.created_by != "admin" for i in stored)
    assert list(photo_dir.iterdir()) == []
    log = svc.store.audit_log(entity="incident")
    assert [(e["action"], e["detail"]["incidents"]) for e in log[:2]] == [
        ("insert", ARGS["count"]),
        ("delete", 1),
    ]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_the_command(db_url):
    assert run("init-db", "--db", db_url).exit_code == 0
    cmd = ["sample-incidents", "--count", 40, "--seed", 2, "--end", "2026-11-30T17:00",
           "--years", 1, "--db", db_url]  # fmt: skip
    first = run(*cmd)
    assert first.exit_code == 0, first.output
    assert "Wrote 40 sample incidents over 1 years (seed 2)" in first.output
    refused = run(*cmd)
    assert refused.exit_code == 2
    assert "already has 40 incidents" in refused.output and "--replace" in refused.output
    store = Store(db_url)
    try:
        before = [(i.created_at, i.description) for i in all_incidents(Service(store))[1]]
        assert run(*cmd, "--replace").exit_code == 0
        after = [(i.created_at, i.description) for i in all_incidents(Service(store))[1]]
        assert after == before  # the same seed, the same history
        assert max(t for t, _ in after) <= datetime(2026, 11, 30, 9, tzinfo=UTC)
    finally:
        store.dispose()
