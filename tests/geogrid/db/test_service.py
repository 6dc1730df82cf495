"""The Service over the database, on both backends: bootstrap, version- and roster-aware
answers, and one locator per version."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
import shapely
from geogrid_db_support import (
    DISTRICT,
    OWNER,
    POINT,
    counts,
    grid_value,
    sample,
    sibling,
    swap_grids,
    with_worker,
)

import geogrid.service
from geogrid.db import Store
from geogrid.errors import NotFound
from geogrid.locate import Locator
from geogrid.service import Service

US = timedelta(microseconds=1)


def test_bootstrap_seeds_once(store, db_url):
    with pytest.raises(NotFound, match="no district"):
        Service(store)
    svc = Service.bootstrap(store)
    v = store.current_version(DISTRICT)
    assert (v.number, v.status, v.grid_count, v.unit_count) == (1, "published", 156, 1786)
    assert len(store.duty_history(DISTRICT, OWNER)) == 1
    seeded = counts(store)
    again = Store(db_url)
    try:
        Service.bootstrap(again)  # a second process starting: nothing is seeded twice
    finally:
        again.dispose()
    assert counts(store) == seeded
    assert svc.district_code == DISTRICT


@pytest.fixture
def builds(monkeypatch):
    """Counts the locators the Service builds."""
    made = []

    class Counting(Locator):
        def __init__(self, district, **kw):
            made.append(len(district.grids2))
            super().__init__(district, **kw)

    monkeypatch.setattr(geogrid.service, "Locator", Counting)
    return made


def test_answers_follow_versions_and_roster_as_of_any_time(seeded, builds, monkeypatch):
    store, v1 = seeded
    d1 = sample()
    other = sibling(d1)
    svc = Service(store, check_interval=0)  # poll the database on every request
    old_owner_worker = grid_value(d1, OWNER, "worker")
    for _ in range(100):
        a = svc.locate(*POINT)
    assert (a.grid2.code, a.grid2.people["worker"]) == (OWNER, old_owner_worker)
    assert builds == [156]

    # version 2: OWNER and its sibling exchange territory; the sibling gets a new worker
    d2 = with_worker(swap_grids(d1), other, "新网格员", "13900000000")
    v2 = store.publish(store.create_version(d2, actor="p").id, actor="p")
    a = svc.locate(*POINT)
    assert (a.grid2.code, a.grid2.people["worker"]) == (other, "新网格员")
    assert svc.current()[0].id == v2.id
    # a point of OWNER's new territory: where the sibling was in version 1
    q = shapely.get_coordinates(
        shapely.point_on_surface(d1.grids2.loc[d1.grids2["code"] == other].geometry.iloc[0])
    )[0]
    assert svc.locate(*q).grid2.code == OWNER

    # a roster change: the current locator swaps people, no rebuild
    store.assign(DISTRICT, OWNER, "worker", "王新", "13800000001", actor="disp")
    t3 = store.duty_history(DISTRICT, OWNER)[-1].valid_from
    assert svc.locate(*q).grid2.people["worker"] == "王新"
    assert builds == [156, 156]

    # as of any time: the version current then, with the people on duty then
    t1, t2 = v1.published_at, v2.published_at
    version, _ = svc.locator_at(t2 - US)
    assert version.id == v1.id
    a = svc.locate(*POINT, at=t2 - US)
    assert (a.grid2.code, a.grid2.people["worker"]) == (OWNER, old_owner_worker)
    a = svc.locate(*POINT, at=t1)
    assert (a.grid2.code, a.grid2.people["worker"]) == (OWNER, old_owner_worker)
    a = svc.locate(*POINT, at=t2)
    assert (a.grid2.code, a.grid2.people["worker"]) == (other, "新网格员")
    assert svc.locate(*q, at=t3 - US).grid2.people["worker"] == old_owner_worker
    assert svc.locate(*q, at=t3).grid2.people["worker"] == "王新"
    # version 1 read as of after the change: its grid OWNER carries the worker on duty then
    assert svc.locate(*POINT, at=t2 - US).grid2.people["worker"] == old_owner_worker
    with pytest.raises(NotFound):
        svc.locate(*POINT, at=t1 - US)
    for _ in range(100):
        svc.locate(*POINT)
    for _ in range(3):
        svc.locate(*POINT, at=t1)
    assert builds == [156, 156]  # one locator per version, however many requests

    # an "as of" answer already in memory (same version, same people on duty) is not reloaded
    loads = []
    load = store.load_district
    monkeypatch.setattr(store, "load_district", lambda *a, **k: loads.append(k) or load(*a, **k))
    for when in (t1, t1 + (t2 - t1) / 2, t2 - US):
        assert svc.locate(*POINT, at=when).grid2.people["worker"] == old_owner_worker
    assert svc.locate(*q, at=t3).grid2.people["worker"] == "王新"
    assert loads == []
    store.assign(DISTRICT, OWNER, "worker", "李后", "13800000002", actor="disp")
    t4 = store.duty_history(DISTRICT, OWNER)[-1].valid_from
    assert svc.locate(*q, at=t4).grid2.people["worker"] == "李后"  # new people: loaded once
    assert svc.locate(*q, at=t4 + US).grid2.people["worker"] == "李后"
    assert svc.locate(*q, at=t4 - US).grid2.people["worker"] == "王新"
    assert len(loads) == 1 and builds == [156, 156]


def test_background_work_is_stopped_and_joined_when_the_process_exits(tmp_path):
    """A command that returns while a locator is still being filled in must exit cleanly: the
    background thread is told to stop and waited for, not torn down inside GEOS."""
    script = textwrap.dedent(
        """
        import sys, time
        from geogrid.service import EXITING, in_background

        def work(path):
            while not EXITING.wait(0.01):
                pass
            time.sleep(0.2)  # still busy when the interpreter starts to shut down
            open(path, "w").write("stopped cleanly")

        in_background(work, sys.argv[1], name="test-work")
        """
    )
    done = tmp_path / "done"
    result = subprocess.run(
        [sys.executable, "-c", script, str(done)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert done.read_text() == "stopped cleanly"
