"""What the early-warning rules read from the database, on SQLite and PostGIS: only the recent
window of reports, the return visits passed and the reopenings after them (from the log), the
incidents open now with their overdue flag, and the spans that give each grid's usual level;
then the rules and acknowledgements through the use cases, on a history made by the workflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from geogrid_db_support import DISTRICT, OWNER, OWNER1, POINT

from geogrid.access import Actor
from geogrid.errors import Conflict, Forbidden, InputError, NotFound
from geogrid.incidents import warnings as W
from geogrid.incidents.policy import Policy
from geogrid.service import Service
from geogrid.usecases import incidents as uc
from geogrid.usecases import warnings as uw

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
S = W.WarningSettings()
DISP = Actor("disp", "dispatcher")


def row(version_id: int, ago: timedelta, *, state="closed", category="0601", grid=OWNER, **kw):
    """An incident's columns as ``insert_incidents`` takes them, reported ``ago`` before NOW."""
    created = NOW - ago
    values = {
        "district_code": DISTRICT, "version_id": version_id, "grid_code": grid,
        "grid1_code": grid[:12], "lon": POINT[0], "lat": POINT[1], "input": None,
        "category": category, "description": "测试", "channel": "phone", "reporter": None,
        "state": state, "created_at": created, "created_by": "tests", "updated_at": created,
        "due_at": None, "closed_at": None, "reporter_contact": None, "informant_kind": None,
        "informant_name": None, "address": None, "unit_code": None, "worker": None,
        "office": None, "dispatched_at": None, "escalated_at": None, "office_due_at": None,
        "resolved_at": None, "revisit_due_at": None, "revisited_at": None, "satisfaction": None,
        "recurrences": 0, "merged_into": None, "media_url": None,
    }  # fmt: skip
    values.update(kw)
    return values


def event(at, action, from_state, to_state, **detail):
    return {"at": at, "actor": "tests", "from_state": from_state, "to_state": to_state,
            "note": "", "action": action, "detail": detail}  # fmt: skip


def insert(store, rows):
    store.insert_incidents(DISTRICT, [(r, [event(r["created_at"], "report", None, "reported")]) if isinstance(r, dict) else r for r in rows], actor="tests")  # fmt: skip


def test_only_the_recent_window_is_read(seeded):
    store, v1 = seeded
    insert(store, [row(v1.id, timedelta(days=d)) for d in (1, 10, 29, 31, 400, 3000)])
    inputs = store.warning_inputs(DISTRICT, NOW, S)
    ages = sorted(round((NOW - r.created_at).total_seconds() / 86400) for r in inputs.reports)
    assert ages == [1, 10, 29]  # the lookback is the longest window, 30 days
    assert {r.grid_code for r in inputs.reports} == {OWNER}
    assert [w.rule for w in W.evaluate(inputs, S)] == ["repeat"]
    # five days earlier: the window moves with `now` (nothing after it)
    earlier = store.warning_inputs(DISTRICT, NOW - timedelta(days=5), S).reports
    assert sorted(round((NOW - r.created_at).total_seconds() / 86400) for r in earlier) == [
        10,
        29,
        31,
    ]


def test_open_now_and_the_usual_level(seeded):
    store, v1 = seeded
    day = timedelta(days=1)
    history = [  # each open for about a day, one every day of the last eight weeks: usual 1
        row(v1.id, k * day + timedelta(hours=12), closed_at=NOW - k * day + timedelta(hours=12),
            updated_at=NOW - k * day + timedelta(hours=12))
        for k in range(1, 57)
    ]  # fmt: skip
    late = NOW - timedelta(days=2)
    now_open = [
        row(v1.id, timedelta(days=3), state="dispatched", dispatched_at=NOW - timedelta(days=3), due_at=late)
        for _ in range(5)
    ] + [row(v1.id, timedelta(hours=5), state="handling", due_at=NOW + day)]  # fmt: skip
    gone = [
        row(v1.id, timedelta(days=200), state="cancelled", updated_at=NOW - timedelta(days=199))
    ]
    insert(store, history + now_open + gone)
    inputs = store.warning_inputs(DISTRICT, NOW, S, need=("surge",))
    assert inputs.reports == [] and len(inputs.open_now) == 6
    assert sum(i.overdue for i in inputs.open_now) == 5
    # the cancelled one ended before the baseline, the newest came after its last day
    assert len(inputs.spans) == 56 + 5
    opened, overdue = W.levels(inputs.spans, W.baseline_times(NOW, S), [OWNER])
    assert opened[0].tolist()[3:] == [1] * 53  # the six open ones began 3 days ago and less
    found = {w.detail["measure"]: w for w in W.evaluate(inputs, S, rules=("surge",))}
    assert set(found) == {"open", "overdue"}
    assert found["open"].detail["count"] == 6 and found["overdue"].detail["count"] == 5
    assert found["open"].community == OWNER1


def test_recurrences_from_the_log(seeded):
    store, v1 = seeded
    t = lambda days: NOW - timedelta(days=days)  # noqa: E731
    reopened = (
        row(v1.id, timedelta(days=20), state="dispatched", recurrences=1, dispatched_at=t(2)),
        [event(t(20), "report", None, "reported"),
         event(t(12), "revisit", "resolved", "revisited", passed=True, satisfaction="satisfied"),
         event(t(11), "close", "revisited", "closed"),
         event(t(2), "reopen", "closed", "dispatched", recurrence=1)],
    )  # fmt: skip
    failed = (  # failed at the visit: not a comeback after a passed one
        row(v1.id, timedelta(days=20), state="dispatched", recurrences=1, dispatched_at=t(3)),
        [event(t(20), "report", None, "reported"),
         event(t(3), "revisit", "resolved", "dispatched", passed=False, recurrence=1)],
    )  # fmt: skip
    passed = row(v1.id, timedelta(days=15), state="closed", revisited_at=t(9), closed_at=t(8))
    old = row(v1.id, timedelta(days=90), state="closed", revisited_at=t(60), closed_at=t(59))
    insert(store, [reopened, failed, passed, old])
    visits = store.warning_inputs(DISTRICT, NOW, S, need=("recur",)).revisits
    got = sorted(
        ((NOW - v.revisited_at).days, v.reopened_at and (NOW - v.reopened_at).days) for v in visits
    )
    assert got == [(9, None), (12, 2)]  # fmt: skip


@pytest.fixture
def svc(seeded):
    store, _ = seeded
    return Service(store, DISTRICT, policy=Policy(photo_dir=None))


def test_the_workflow_raises_and_acknowledges(svc):
    inc = uc.report(svc, DISP, *POINT, category="0601", dispatch=True)
    for step, kw in (("accept", {}), ("resolve", {"note": "已补装"}),
                     ("revisit", {"passed": True, "satisfaction": "satisfied"}), ("close", {})):  # fmt: skip
        uc.act(svc, Actor("w", "admin"), inc.id, step, **kw)
    assert uw.warnings(svc, DISP, rule="recur") == []
    uc.act(svc, DISP, inc.id, "reopen", note="井盖又丢了")
    (w,) = uw.warnings(svc, DISP, rule="recur")
    assert w.incidents == (inc.id,) and w.detail["reopened"] is True
    with pytest.raises(InputError, match="a note"):
        uw.acknowledge(svc, DISP, w.key, "  ")
    with pytest.raises(Forbidden, match="may not acknowledge"):
        uw.acknowledge(svc, Actor("p", "planner"), w.key, "看看")
    with pytest.raises(NotFound):
        uw.acknowledge(svc, DISP, "recur:0:20000101", "看看")
    done = uw.acknowledge(svc, DISP, w.key, "已约谈物业")
    assert done.acknowledged["by"] == "disp" and done.acknowledged["note"] == "已约谈物业"
    with pytest.raises(Conflict, match="acknowledged by disp"):
        uw.acknowledge(svc, DISP, w.key, "再次")
    assert uw.warnings(svc, DISP, rule="recur") == []
    assert [x.key for x in uw.warnings(svc, DISP, rule="recur", view="acknowledged")] == [w.key]
    (logged,) = svc.store.audit_log(entity="warning")
    assert logged["actor"] == "disp" and logged["entity_key"] == w.key
    assert logged["detail"]["note"] == "已约谈物业" and logged["detail"]["incidents"] == [inc.id]
    # a new report of the same category near it joins the warning: it is active again
    new = uc.report(svc, DISP, POINT[0] + 0.0005, POINT[1], category="0601")
    (back,) = uw.warnings(svc, DISP, rule="recur")
    assert back.key == w.key and back.incidents == (inc.id, new.id)
    assert back.acknowledged is None


def test_scope_and_refusals(svc):
    for _ in range(3):
        uc.report(svc, DISP, *POINT, category="0601")
    worker = Actor("wangge", "worker", frozenset({OWNER}))
    elsewhere = Actor("other", "worker", frozenset({"320113005001001"}))
    assert [w.rule for w in uw.warnings(svc, worker, rule="repeat")] == ["repeat"]
    assert uw.warnings(svc, elsewhere) == []
    with pytest.raises(Forbidden, match="service office user may not read the early warnings"):
        uw.warnings(svc, Actor("o", "office", office="城管执法中队"))
    with pytest.raises(InputError, match="unknown warning rule"):
        uw.warnings(svc, DISP, rule="nope")
    with pytest.raises(InputError, match="unknown view"):
        uw.warnings(svc, DISP, view="nope")
    assert uw.active_count(svc, worker) == len(uw.warnings(svc, worker))
    assert uw.active_count(svc, Actor("o", "office", office="x")) is None
