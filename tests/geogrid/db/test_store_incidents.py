"""Incidents on both backends: located reports, the workflow and its event log, races."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from geogrid_db_support import DISTRICT, POINT, report, table_rows

from geogrid import incidents as wf
from geogrid.db import Store
from geogrid.db import schema as t
from geogrid.db.types import utcnow
from geogrid.errors import Conflict, InputError, NotFound


def test_workflow_with_event_log(module_service):
    store = module_service.store
    inc = report(module_service, *POINT, category="占道经营", actor="disp")
    steps = [
        (wf.DISPATCHED, "worker.zhou", "派给周俊峰"),
        (wf.ESCALATED, "worker.zhou", "需城管执法会办"),
        (wf.RESOLVED, "office", "已清理"),
        (wf.REVISIT, "worker.zhou", "回头看"),
        (wf.CLOSED, "disp", "结案"),
        (wf.DISPATCHED, "disp", "问题复发，重新派遣"),
    ]
    state = wf.REPORTED
    for to_state, actor, note in steps:
        before = utcnow()
        inc = store.transition_incident(inc.id, to_state, actor=actor, note=note)
        after = utcnow()
        assert inc.state == to_state
        e = inc.events[-1]
        assert (e["actor"], e["from_state"], e["to_state"], e["note"]) == (
            actor,
            state,
            to_state,
            note,
        )
        assert before <= e["at"] == inc.updated_at <= after
        if to_state == wf.CLOSED:
            assert inc.closed_at == e["at"]
        state = to_state
    assert inc.closed_at is None  # reopened
    assert [e["to_state"] for e in inc.events] == ["reported"] + [s[0] for s in steps]
    ats = [e["at"] for e in inc.events]
    assert ats == sorted(ats)
    assert store.incident(inc.id).events == inc.events
    assert inc.id in {i.id for i in store.incidents(DISTRICT, state=wf.DISPATCHED)}


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], wf.CLOSED),  # reported → closed skips the work
        ([], wf.RESOLVED),
        ([wf.CANCELLED], wf.DISPATCHED),  # cancelled is final
        ([wf.DISPATCHED], wf.DISPATCHED),  # already there: someone did it first → Conflict
        ([], "archived"),  # no such state
    ],
)
def test_forbidden_transition_writes_nothing(module_service, path, target):
    store = module_service.store
    inc = report(module_service, *POINT, category="x", actor="disp")
    for s in path:
        inc = store.transition_incident(inc.id, s, actor="disp")
    events = table_rows(store, t.incident_events)
    with pytest.raises(Conflict if path and path[-1] == target else InputError):
        store.transition_incident(inc.id, target, actor="disp", note="不该写入")
    assert store.incident(inc.id) == inc
    assert table_rows(store, t.incident_events) == events


def test_transition_unknown_incident(module_service):
    with pytest.raises(NotFound):
        module_service.store.transition_incident(10**6, wf.DISPATCHED, actor="disp")


def _race(store, url, iid, target):
    """Two Store objects move one incident to ``target`` at the same time. On PostgreSQL the
    second reads the state, then waits until the first has committed (the window of a stale
    read); SQLite queues writers on BEGIN IMMEDIATE, so there the two simply start together."""
    other = Store(url)
    a_done, b_read = threading.Event(), threading.Event()
    results = {}
    if other.dialect == "postgresql":

        def hook(conn, cursor, statement, params, context, executemany):
            if statement.startswith("SELECT incidents.state \n") and not b_read.is_set():
                b_read.set()
                a_done.wait(10)

        sa.event.listen(other.engine, "after_cursor_execute", hook)
    else:
        b_read.set()

    def run(name, s):
        try:
            results[name] = s.transition_incident(iid, target, actor=name, note=name)
        except Exception as exc:  # reported below
            results[name] = exc
        finally:
            if name == "a":
                a_done.set()

    tb = threading.Thread(target=run, args=("b", other))
    tb.start()
    assert b_read.wait(10)
    run("a", store)
    tb.join(30)
    other.dispose()
    return results


def test_concurrent_transitions_exactly_one_wins(module_service, module_url, request):
    store = module_service.store
    inc = report(module_service, *POINT, category="x", actor="disp")
    results = _race(store, module_url, inc.id, wf.DISPATCHED)
    wins = [k for k, v in results.items() if not isinstance(v, Exception)]
    assert len(wins) == 1, results
    got = store.incident(inc.id)
    assert got.state == wf.DISPATCHED
    assert [(e["actor"], e["to_state"]) for e in got.events] == [
        ("disp", "reported"),
        (wins[0], "dispatched"),
    ]
    [loser] = [v for v in results.values() if isinstance(v, Exception)]
    assert isinstance(loser, Conflict), repr(loser)
