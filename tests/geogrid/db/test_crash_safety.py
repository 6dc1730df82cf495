"""A process SIGKILLed at any statement of a publish, a version import or an incident transition
leaves the previous state whole, on both backends.

The work runs in child processes forked from one helper process (written to a temporary file
and started with this interpreter, so the imports are paid once). Each child installs a
SQLAlchemy ``after_cursor_execute`` hook that, at the chosen statement, prints ``paused`` and
sleeps; the test then SIGKILLs it mid-transaction and inspects the database.
"""

from __future__ import annotations

import json
import os
import signal
import textwrap
from pathlib import Path

import pytest
import shapely
import sqlalchemy as sa
from geogrid_db_support import DISTRICT, OWNER, POINT, Child, move, sample, snapshot, store_incident

from geogrid import incidents as wf
from geogrid.db import schema as t
from geogrid.service import Service
from geogrid.validate import validate

HELPER = textwrap.dedent(
    r'''
    """Forks one child per job read from stdin; the child does the job, pausing at a statement."""
    import json, os, signal, sys, time

    sys.path.insert(0, sys.argv[1])
    import sqlalchemy as sa

    from geogrid.db import Store
    from geogrid.service import Service
    from geogrid_db_support import OWNER, sample, sibling, swap_grids, with_worker

    sample()  # warm the caches the children share


    def say(**event):
        print(json.dumps(event), flush=True)


    def changed():
        """The sample with territory swapped and four workers and a leader changed."""
        d = swap_grids(sample())
        for i, code in enumerate(list(d.grids2["code"])[:3] + [sibling(d)]):
            d = with_worker(d, code, f"新人{i}", f"1390000000{i}")
        d.grids1.loc[0, "leader"] = "新书记"
        return d


    def job(spec):
        store = Store(spec["url"])
        pause = spec["pause"]
        armed = {"on": False, "seen": 0}

        def hook(conn, cursor, statement, parameters, context, executemany):
            if not armed["on"] or not statement.startswith(pause["sql"]):
                return
            if pause.get("param") and pause["param"] not in repr(parameters):
                return
            armed["seen"] += 1
            if armed["seen"] == pause.get("nth", 1):
                say(event="paused", statement=statement[:60])
                parent = os.getppid()
                while os.getppid() == parent:  # until killed, or orphaned by a failed test
                    time.sleep(0.1)
                os._exit(3)

        sa.event.listen(store.engine, "after_cursor_execute", hook)
        op = spec["op"]
        if op == "publish":
            draft = store.create_version(changed(), actor="child")
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
            say(event="draft", id=draft.id)
            signal.sigwait({signal.SIGUSR1})
            armed["on"] = True
            store.publish(draft.id, actor="child")
        elif op == "create":
            armed["on"] = True
            store.create_version(changed(), actor="child")
        elif op == "bootstrap":
            armed["on"] = True
            Service.bootstrap(store)
        elif op == "transition":
            armed["on"] = True
            inc = store.incident(spec["incident"])
            store.apply(inc, "dispatch", {"state": spec["to"]}, actor="child", note="killed")
        say(event="done")


    say(event="ready")
    for line in sys.stdin:
        spec = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                say(event="started", pid=os.getpid())
                job(spec)
            except BaseException as exc:
                say(event="error", error=repr(exc))
                code = 1
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        say(event="exit", pid=pid, signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None)
    '''
)


@pytest.fixture(scope="module")
def _helper(tmp_path_factory):
    script = tmp_path_factory.mktemp("crash") / "crash_helper.py"
    script.write_text(HELPER, encoding="utf-8")
    child = Child(script, str(Path(__file__).resolve().parent))
    child.pending = set()  # jobs started and not yet seen to exit
    try:
        assert json.loads(child.read())["event"] == "ready"
        yield child
    finally:
        child.close()


@pytest.fixture
def helper(_helper):
    """The helper process; after the test, jobs a failure left running are killed."""
    yield _helper
    for pid in list(_helper.pending):
        os.kill(pid, signal.SIGKILL)  # not reaped yet, so the pid is still this job's
        while json.loads(_helper.read()).get("event") != "exit":
            pass
        _helper.pending.discard(pid)


class Job:
    """One forked child doing ``spec``, under the test's control."""

    def __init__(self, helper: Child, url: str, op: str, pause: dict, **extra):
        self.helper = helper
        helper.send(json.dumps({"url": url, "op": op, "pause": pause, **extra}))
        started = self.event()
        assert started["event"] == "started", started
        self.pid = started["pid"]
        helper.pending.add(self.pid)

    def event(self) -> dict:
        return json.loads(self.helper.read())

    def expect(self, kind: str) -> dict:
        e = self.event()
        assert e["event"] == kind, e
        return e

    def kill_when_paused(self) -> None:
        """Wait for the marker, SIGKILL the child mid-transaction, see it died of that."""
        self.expect("paused")
        os.kill(self.pid, signal.SIGKILL)
        e = self.expect("exit")
        self.helper.pending.discard(self.pid)
        assert (e["pid"], e["signal"]) == (self.pid, signal.SIGKILL)


def kill_publish(helper, url, store, pause) -> int:
    """A child makes a draft, then is killed inside its publish; returns the draft's id."""
    job = Job(helper, url, "publish", pause)
    draft = job.expect("draft")["id"]
    before = snapshot(store)  # the draft is complete and committed
    assert store.version(draft).status == "draft"
    os.kill(job.pid, signal.SIGUSR1)
    job.kill_when_paused()
    assert_unchanged(store, before)
    return draft


def assert_unchanged(store, before) -> None:
    after = snapshot(store)
    for name, rows in before.items():
        assert after[name] == rows, f"table {name} changed"


def assert_whole(store, v1) -> None:
    """The current version is v1, complete; every stored version is complete."""
    assert store.current_version(DISTRICT).id == v1.id
    assert store.version_at(DISTRICT, v1.published_at).id == v1.id
    g, u = t.grids.c, t.units.c
    with store.engine.connect() as conn:
        per_level = dict(
            conn.execute(
                sa.select(g.version_id, sa.func.count()).where(g.level == 2).group_by(g.version_id)
            ).all()
        )
        units = dict(
            conn.execute(sa.select(u.version_id, sa.func.count()).group_by(u.version_id)).all()
        )
        ones = dict(
            conn.execute(
                sa.select(g.version_id, sa.func.count()).where(g.level < 2).group_by(g.version_id)
            ).all()
        )
    versions = {v.id: v for v in store.versions(DISTRICT)}
    assert set(per_level) == set(units) == set(ones) == set(versions)
    for vid, v in versions.items():
        assert (per_level[vid], units[vid], ones[vid]) == (v.grid_count, v.unit_count, 11), v
        assert v.status == ("published" if vid == v1.id else "draft"), v
    d = store.load_district(v1.id)
    assert validate(d).ok
    src = sample()
    assert sorted(shapely.to_wkb(d.grids2.geometry.values)) == sorted(
        shapely.to_wkb(src.grids2.geometry.values)
    )
    duties = store.duties_at(DISTRICT)
    assert {r: sum(r in x for x in duties.values()) for r in ("leader", "office", "worker")} == {
        "leader": 10,
        "office": 10,
        "worker": 156,
    }


PUBLISH_PAUSES = [
    {"sql": "UPDATE district_state"},  # the version is current, uncommitted
    {"sql": "INSERT INTO duties", "nth": 3},  # half-way through the roster
    {"sql": "INSERT INTO audit_log", "param": "publish"},  # the last statement
]


def test_kill_during_publish(seeded, db_url, helper):
    store, v1 = seeded
    drafts = [kill_publish(helper, db_url, store, pause) for pause in PUBLISH_PAUSES]
    assert_whole(store, v1)
    assert store.state(DISTRICT) == (v1.id, 1)
    # the store still works: the draft the last child left is published by someone else
    v = store.publish(drafts[-1], actor="survivor")
    assert store.current_version(DISTRICT).id == v.id
    first = sample().grids1.loc[0, "code"]
    assert store.duties_at(DISTRICT)[first]["leader"].name == "新书记"
    g1 = store.load_district(v.id).grids1
    assert g1.loc[g1["code"] == first, "leader"].iloc[0] == "新书记"


CREATE_PAUSES = [
    {"sql": "INSERT INTO versions"},
    {"sql": "INSERT INTO grids"},
    {"sql": "INSERT INTO units"},
    {"sql": "INSERT INTO audit_log"},  # the last statement
]


def test_kill_during_create_version(seeded, db_url, helper):
    store, v1 = seeded
    before = snapshot(store)
    for pause in CREATE_PAUSES:
        Job(helper, db_url, "create", pause).kill_when_paused()
        assert_unchanged(store, before)
    assert_whole(store, v1)
    # nothing half-made blocks the next import: it gets the next number and publishes
    draft = store.create_version(sample(), actor="survivor")
    assert draft.number == 2
    assert store.publish(draft.id, actor="survivor").current


def test_kill_during_first_import(store, db_url, helper):
    Job(helper, db_url, "bootstrap", {"sql": "INSERT INTO units"}).kill_when_paused()
    assert store.districts() == []
    left = {name: rows for name, rows in snapshot(store).items() if rows}
    assert list(left) == ["incident_categories"]  # the catalogue the schema is created with
    svc = Service.bootstrap(store)  # starting again seeds from scratch
    assert svc.store.current_version(DISTRICT).number == 1
    assert_whole(store, store.current_version(DISTRICT))


def test_kill_during_first_publish_then_bootstrap_recovers(store, db_url, helper):
    Job(helper, db_url, "bootstrap", {"sql": "INSERT INTO duties", "nth": 5}).kill_when_paused()
    assert store.state(DISTRICT) == (None, 0)  # the publish left nothing behind
    svc = Service.bootstrap(store)
    try:
        answer = svc.locate(*POINT).grid2.code
    except Exception as exc:  # what a restarted service answers
        answer = repr(exc)
    assert answer == OWNER


@pytest.mark.parametrize(
    "pause",
    [{"sql": "UPDATE incidents"}, {"sql": "INSERT INTO incident_events"}],
    ids=["state-written", "event-written"],
)
def test_kill_during_incident_transition(seeded, db_url, helper, pause):
    store, v1 = seeded
    inc = store_incident(store, v1.id)
    before = snapshot(store)
    Job(helper, db_url, "transition", pause, incident=inc.id, to=wf.DISPATCHED).kill_when_paused()
    assert_unchanged(store, before)
    assert store.incident(inc.id) == inc
    assert [e["to_state"] for e in inc.events] == ["reported"]
    # the incident moves on normally afterwards
    moved = move(store, inc, wf.DISPATCHED, note="重新派遣")
    assert [(e["from_state"], e["to_state"]) for e in moved.events] == [
        (None, "reported"),
        ("reported", "dispatched"),
    ]
