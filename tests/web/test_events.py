"""Live events, GET /api/v1/events, through the Flask test client on both backends: the first
events of a new assignment, resuming from Last-Event-ID or ?after= with nothing missed, reset
when the id cannot be resumed from, each role's scope, and who may open a stream."""

from __future__ import annotations

import pytest
from sse_support import ClientStream
from web_support import OFFICE, WORKER_GRID

from geogrid.usecases import live

MINE = (118.93, 32.11)
OTHER_GRID = "320113005001001"
FIELDS = {"id", "incident_id", "action", "from_state", "to_state", "grid_code", "worker", "at", "actor"}  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def esite(request, make_site):
    return make_site(request.param)


@pytest.fixture(autouse=True)
def _short_heartbeat(monkeypatch):
    # the test client's generator yields a keep-alive this often, so a reader can stop
    monkeypatch.setattr(live, "HEARTBEAT", 0.2)


@pytest.fixture
def streams():
    opened = []

    def open_(site, role=None, path="/api/v1/events", headers=None, client=None):
        h = dict(site.headers(role)) if role else {}
        h.update(headers or {})
        s = ClientStream(client or site.client(), path, h)
        opened.append(s)
        return s

    yield open_
    for s in opened:
        s.close()


def call(site, role, method, path, **kw):
    return site.client().open(path, method=method, headers=site.headers(role), **kw)


def report(site, where=MINE, **body):
    x, y = where
    body = {"x": x, "y": y, "category": "0601", "description": "井盖缺失", "reporter_contact": "13900000000", **body}  # fmt: skip
    resp = call(site, "dispatcher", "POST", "/api/v1/incidents", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def other_grid_point(site):
    from shapely.geometry import shape

    grid = call(site, "admin", "GET", f"/api/v1/grids/{OTHER_GRID}").get_json()
    p = shape(grid["geometry"]).representative_point()
    return p.x, p.y


def of(inc):
    return lambda ev: ev.event == "incident" and ev.data["incident_id"] == inc["id"]


def test_a_new_assignment_arrives_on_an_open_stream(esite, streams):
    s = streams(esite, "worker")
    assert s.status == 200
    assert s.resp.mimetype == "text/event-stream"
    assert s.resp.headers["Cache-Control"] == "no-cache"
    assert s.resp.headers["X-Accel-Buffering"] == "no"
    inc = report(esite, dispatch=True)
    ev = s.until(of(inc))[-1]
    assert set(ev.data) == FIELDS  # no reporter, no contact
    assert ev.id == ev.data["id"]
    assert ev.data["action"] == "report" and ev.data["to_state"] == "dispatched"
    assert ev.data["grid_code"] == WORKER_GRID and ev.data["worker"] == inc["worker"]
    assert ev.data["actor"] == "dispatcher"
    assert "13900000000" not in str(ev.data)
    call(esite, "worker", "POST", f"/api/v1/incidents/{inc['id']}/actions", json={"action": "accept"})  # fmt: skip
    nxt = s.until(of(inc))[-1]
    assert nxt.data["action"] == "accept" and nxt.data["from_state"] == "dispatched"
    assert nxt.id > ev.id


@pytest.mark.parametrize("how", ["header", "query"])
def test_a_resumed_stream_misses_nothing(esite, streams, how):
    first = streams(esite, "dispatcher")
    incs = [report(esite, dispatch=True) for _ in range(3)]
    seen = first.until(of(incs[-1]))
    ids = [e.id for e in seen if e.event == "incident"]
    first.close()  # the page drops; meanwhile two more
    missed = [report(esite, dispatch=True) for _ in range(2)]
    resume_after = ids[0]  # as if only the first had arrived
    if how == "header":
        s = streams(esite, "dispatcher", headers={"Last-Event-ID": str(resume_after)})
    else:
        s = streams(esite, "dispatcher", f"/api/v1/events?after={resume_after}")
    got = s.until(of(missed[-1]))
    got_ids = [e.id for e in got]
    assert got_ids == sorted(got_ids) and len(set(got_ids)) == len(got_ids)
    assert set(ids[1:]) <= set(got_ids)  # the ones after the resumed id, again
    assert {e.data["incident_id"] for e in got} >= {i["id"] for i in incs[1:] + missed}
    live_one = report(esite, dispatch=True)  # and it goes on live
    assert s.until(of(live_one))[-1].data["action"] == "report"


def test_reset_when_the_id_cannot_be_resumed(esite, streams, monkeypatch):
    report(esite)
    latest = esite.store.feed_last(esite.service.district_code)
    for headers in ({"Last-Event-ID": str(latest + 1000)}, {"Last-Event-ID": "999999999"}):
        s = streams(esite, "dispatcher", headers=headers)
        ev = s.next()
        assert ev.event == "reset" and ev.id == latest and ev.data == {"last": latest}
    monkeypatch.setattr(live, "MAX_REPLAY", 2)
    before = esite.store.feed_last(esite.service.district_code)
    for _ in range(3):
        report(esite)
    s = streams(esite, "dispatcher", headers={"Last-Event-ID": str(before)})
    ev = s.next()
    assert ev.event == "reset" and ev.id == before + 3  # too far behind: from the latest on
    inc = report(esite)
    assert s.until(of(inc))[0].data["incident_id"] == inc["id"]
    # a gap within the limit is replayed, not reset
    s2 = streams(esite, "dispatcher", headers={"Last-Event-ID": str(before + 2)})
    assert s2.next().event == "incident"


def test_each_role_gets_its_scope_only(esite, streams):
    worker = streams(esite, "worker")
    office = streams(esite, "office")
    planner = streams(esite, "planner")
    elsewhere = report(esite, other_grid_point(esite), dispatch=True)
    mine = report(esite, dispatch=True)
    got = worker.until(of(mine))
    assert all(e.data["grid_code"] == WORKER_GRID for e in got)
    assert elsewhere["id"] not in {e.data["incident_id"] for e in got}
    assert {e.data["incident_id"] for e in planner.until(of(mine))} >= {elsewhere["id"], mine["id"]}
    # the office hears of an incident once it is escalated to it, and of nothing before
    esc = call(esite, "worker", "POST", f"/api/v1/incidents/{mine['id']}/actions", json={"action": "escalate", "office": OFFICE, "note": "需执法"})  # fmt: skip
    assert esc.status_code == 200, esc.get_json()
    got = office.until(of(mine))
    assert [e.data["action"] for e in got] == ["escalate"]
    assert office.nothing_more()
    # a worker's replay is scoped too
    since = got[0].id - 10
    replay = streams(esite, "worker", f"/api/v1/events?after={max(since, 0)}")
    assert replay.until(of(mine))
    more = report(esite, other_grid_point(esite))
    planner.until(of(more))
    assert all(e.data["grid_code"] == WORKER_GRID for e in _drain(replay))


def _drain(stream):
    out = []
    while not stream.nothing_more(0.5):
        out.append(stream.next())
    return out


def test_who_may_open_a_stream(esite, streams, login):
    anon = streams(esite)
    assert anon.status == 401 and anon.resp.get_json()["error"]["status"] == 401
    bad = streams(esite, "dispatcher", headers={"Last-Event-ID": "abc"})
    assert bad.status == 400 and "Last-Event-ID" in bad.resp.get_json()["error"]["message"]
    bad = streams(esite, "dispatcher", "/api/v1/events?after=-1")
    assert bad.status == 400
    # a logged-in page's session works as well as a token
    client = login(esite.client(), "worker")
    s = streams(esite, client=client)
    assert s.status == 200
    inc = report(esite, dispatch=True)
    assert s.until(of(inc))[-1].data["grid_code"] == WORKER_GRID
