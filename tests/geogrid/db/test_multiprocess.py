"""Several processes on one database: a publish (or roster change) made by one is served by the
others without a restart, and each builds one locator per version. How soon is measured by
``bench/switch_bench.py`` (timed assertions are flaky on a shared machine); here each process
must switch within the generous limit of ``until``."""

from __future__ import annotations

import json
import textwrap
import threading
import time

import pytest
import shapely
import sqlalchemy as sa
from geogrid_db_support import (
    DISTRICT,
    OWNER,
    POINT,
    Child,
    grid_value,
    sample,
    sibling,
    swap_grids,
    with_worker,
)

SERVER = textwrap.dedent(
    r'''
    """A Service answering "lon lat" lines with JSON, counting the locators it builds."""
    import json, sys

    import geogrid.service
    from geogrid.db import Store
    from geogrid.locate import Locator

    builds = []


    class Counting(Locator):
        def __init__(self, district, **kw):
            builds.append(len(district.grids2))
            super().__init__(district, **kw)


    geogrid.service.Locator = Counting
    # as the web service runs it: a watcher thread checks every 0.1 s and builds ahead of requests
    svc = geogrid.service.Service(Store(sys.argv[1]), watch=True, check_interval=0.1)
    requests = 0
    for line in sys.stdin:
        x, y = map(float, line.split())
        answer = svc.locate(x, y)
        requests += 1
        print(json.dumps({
            "check_interval": svc.check_interval,
            "version": svc.current()[0].number,
            "code": answer.grid2.code,
            "worker": answer.grid2.people["worker"],
            "builds": len(builds),
            "requests": requests,
        }), flush=True)
    '''
)


@pytest.fixture
def servers(seeded, db_url, tmp_path):
    script = tmp_path / "locate_server.py"
    script.write_text(SERVER, encoding="utf-8")
    children = [Child(script, db_url) for _ in range(2)]
    try:
        yield children
    finally:
        for c in children:
            c.close()


def ask_all(children, x, y) -> list[tuple[float, dict]]:
    for c in children:
        c.send(f"{float(x)!r} {float(y)!r}")
    out = []
    for c in children:
        answer = json.loads(c.read())
        out.append((time.monotonic(), answer))
    return out


def until(children, x, y, done) -> list[tuple[float, dict]]:
    """Ask each child again and again (each from its own thread, as independent clients do)
    until its answer satisfies ``done``; when each first did, and that answer."""
    first = [None] * len(children)
    errors = []

    def poll(i, child):
        deadline = time.monotonic() + 20
        try:
            while time.monotonic() < deadline:
                child.send(f"{float(x)!r} {float(y)!r}")
                answer = json.loads(child.read())
                if done(answer):
                    first[i] = time.monotonic(), answer
                    return
                time.sleep(0.01)
        except Exception as exc:  # raised in the test's thread below
            errors.append(exc)

    threads = [threading.Thread(target=poll, args=(i, c)) for i, c in enumerate(children)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    assert None not in first, "a process never switched"
    return first


def test_publish_and_roster_change_reach_every_process(seeded, servers, request):
    store, v1 = seeded
    d1 = sample()
    other = sibling(d1)
    for _, a in ask_all(servers, *POINT):
        assert (a["version"], a["code"], a["builds"]) == (1, OWNER, 1)
    commits = []
    sa.event.listen(store.engine, "commit", lambda conn: commits.append(time.monotonic()))

    # version 2 moves the point into the sibling grid
    d2 = with_worker(swap_grids(d1), other, "新网格员", "13900000000")
    draft = store.create_version(d2, actor="planner")
    commits.clear()
    store.publish(draft.id, actor="planner")
    committed = commits[0]  # the write; reads after it commit too
    seen = until(servers, *POINT, lambda a: a["version"] == 2)
    assert all(when > committed for when, _ in seen)
    for _, a in ask_all(servers, *POINT):
        assert (a["version"], a["code"], a["worker"]) == (2, other, "新网格员")

    # a roster change: the new worker is answered, without building a locator
    q = shapely.get_coordinates(
        shapely.point_on_surface(d1.grids2.loc[d1.grids2["code"] == other].geometry.iloc[0])
    )[0]
    for _, a in ask_all(servers, *q):
        assert (a["code"], a["worker"]) == (OWNER, grid_value(d1, OWNER, "worker"))
    commits.clear()
    store.assign(DISTRICT, OWNER, "worker", "王新", actor="disp")
    committed = commits[0]  # the write; reads after it commit too
    seen = until(servers, *q, lambda a: a["worker"] == "王新")
    assert all(when > committed for when, _ in seen)

    # one locator per version, however many requests
    for _ in range(50):
        answers = ask_all(servers, *POINT)
    for _, a in answers:
        assert a["requests"] > 50
        assert a["builds"] == 2, a
