"""Live events through the real ``geogrid serve`` (gunicorn, the LiveWorker): two instances on
one database (SQLite file, PostGIS) as on two machines, an event made through one reaching a
stream held by the other, resumed after a drop; and the default set-up (2 workers x 4 threads)
holding 300 open streams while it still answers, each in-scope stream getting a new event."""

from __future__ import annotations

import urllib.request

from serve_support import Server, call_api, worker_crashes
from sse_support import SocketStream
from web_support import WORKER_GRID, seed

from geogrid.db import Store

MINE = (118.93, 32.11)
OTHER_GRID = "320113005001001"


def api(server, token, method, path, body=None):
    return call_api(server.base, token, method, path, body)


def report(server, token, where=MINE):
    status, inc = api(server, token, "POST", "/api/v1/incidents", {"x": where[0], "y": where[1], "category": "0601", "description": "井盖缺失", "dispatch": True})  # fmt: skip
    assert status == 201
    return inc


def of(inc):
    return lambda ev: ev.event == "incident" and ev.data["incident_id"] == inc["id"]


def stream(server, token, **headers):
    return SocketStream(server.port, {"Authorization": f"Bearer {token}", **headers})


def test_an_event_made_on_one_instance_reaches_a_stream_on_the_other(live_db, tmp_path):
    url, tokens = live_db
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = Server(tmp_path / "a", "--db", url)
    b = Server(tmp_path / "b", "--db", url)
    try:
        s = stream(a, tokens["worker"])
        assert s.status == 200
        assert s.headers["content-type"].startswith("text/event-stream")
        assert s.headers["cache-control"] == "no-cache"
        assert s.headers["x-accel-buffering"] == "no"
        assert s.headers["connection"] == "close" and "transfer-encoding" not in s.headers
        inc = report(b, tokens["dispatcher"])
        ev = s.until(of(inc), timeout=30)[-1]
        assert ev.data["to_state"] == "dispatched" and ev.data["grid_code"] == WORKER_GRID
        # the page drops; meanwhile the worker accepts it on the other instance
        s.close()
        api(b, tokens["worker"], "POST", f"/api/v1/incidents/{inc['id']}/actions", {"action": "accept"})  # fmt: skip
        again = stream(a, tokens["worker"], **{"Last-Event-ID": str(ev.id)})
        nxt = again.until(of(inc), timeout=30)[0]
        assert nxt.data["action"] == "accept" and nxt.id > ev.id
        # both instances answer as usual meanwhile
        assert api(a, tokens["worker"], "GET", "/api/v1/incidents?limit=1")[0] == 200
        again.close()
    finally:
        a.stop()
        b.stop()
    assert "event stream held by the pump" in a.output()
    assert worker_crashes(a.output()) == [] and worker_crashes(b.output()) == []


STREAMS = 300


def test_the_default_set_up_holds_hundreds_of_streams(tmp_path):
    url = f"sqlite:///{tmp_path / 'many.sqlite3'}"
    seed(url)
    store = Store(url)
    tokens = {u.role: store.create_token(u.id, "live", actor="tests") for u in store.users()}
    store.dispose()
    server = Server(tmp_path, "--db", url)  # 2 workers x 4 threads, the default
    streams = []
    try:
        for n in range(STREAMS):
            role = "worker" if n % 2 else "dispatcher"
            s = stream(server, tokens[role])
            assert s.status == 200, n
            streams.append((role, s))
        # far more streams than the 8 request threads, and the server still answers
        with urllib.request.urlopen(server.base + "/healthz", timeout=30) as r:
            assert r.status == 200
        assert api(server, tokens["dispatcher"], "GET", "/api/v1/incidents?limit=1")[0] == 200
        mine = report(server, tokens["dispatcher"])
        for _, s in streams:
            assert s.until(of(mine), timeout=60)[-1].data["grid_code"] == WORKER_GRID
        elsewhere = report(server, tokens["dispatcher"], other_grid_point(server, tokens))
        for role, s in streams:
            if role == "dispatcher":
                s.until(of(elsewhere), timeout=60)
        for role, s in streams:
            if role == "worker":  # out of the worker's scope: nothing came
                assert s.nothing_more(0.05)
        assert all(not s.closed.is_set() for _, s in streams)
    finally:
        for _, s in streams:
            s.close()
        server.stop()
    log = server.output()
    assert worker_crashes(log) == []
    assert log.count("Booting worker") == 2, "a worker died and was replaced"


def other_grid_point(server, tokens):
    from shapely.geometry import shape

    _, grid = api(server, tokens["admin"], "GET", f"/api/v1/grids/{OTHER_GRID}")
    p = shape(grid["geometry"]).representative_point()
    return p.x, p.y
