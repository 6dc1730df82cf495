"""The four-step method through the use cases, on SQLite and PostGIS: intake, every step and
every refused one, deadlines in working days, who may do what, duplicates and merging,
reassigning, photos, and open incidents following their grid when boundaries change."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from geogrid_db_support import (
    DISTRICT,
    OWNER,
    OWNER1,
    POINT,
    sample,
    sibling,
    swap_grids,
    table_rows,
)
from PIL import Image

from geogrid import incidents as wf
from geogrid import usecases
from geogrid.access import Actor
from geogrid.crs import from_wgs84
from geogrid.db import schema as t
from geogrid.db.types import utcnow
from geogrid.errors import Conflict, Forbidden, InputError, NotFound
from geogrid.incidents import ACTIONS, Category, allowed_actions
from geogrid.incidents.query import IncidentQuery
from geogrid.workdays import BEIJING, deadline

U = usecases.incidents
DISP = Actor("disp", "dispatcher")
ADMIN = Actor("admin", "admin")
PLANNER = Actor("plan", "planner")
WORKER = Actor("zhou", "worker", frozenset({OWNER}))
OFFICE_NAME = "城管执法中队"
OFFICE = Actor("chengguan", "office", office=OFFICE_NAME)
#: 0202 违章张贴悬挂广告 (宣传广告): 2 working days, joint handling by 城管执法中队.
CAT = "0202"


@pytest.fixture(autouse=True)
def _photos_in_tmp(module_service, tmp_path, monkeypatch):
    from dataclasses import replace

    monkeypatch.setattr(
        module_service, "policy", replace(module_service.policy, photo_dir=tmp_path / "photos")
    )


def jpeg(w=640, h=480) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 40, 40)).save(buf, "JPEG")
    return buf.getvalue()


def new(svc, **kw):
    kw.setdefault("category", CAT)
    kw.setdefault("description", "占道摆摊")
    return U.report(svc, DISP, *POINT, **kw)


def walk(svc, path, inc=None):
    """An incident taken along ``path`` (action names, each by a role that may)."""
    inc = inc or new(svc)
    for step in path:
        inc = take(svc, inc, step)
    return inc


def take(svc, inc, action):
    kw = {"note": f"{action} note"}
    who = {"accept": WORKER, "resolve": WORKER, "revisit": WORKER}.get(action, DISP)
    if action == "revisit":
        kw.update(passed=True, satisfaction="满意")
    if action == "merge":  # answers the incident merged into; the path goes on with this one
        U.act(svc, who, inc.id, action, into=new(svc).id, **kw)
        return svc.store.incident(inc.id)
    return U.act(svc, who, inc.id, action, **kw)


#: A path from ``reported`` to every state.
PATHS = {
    wf.REPORTED: [],
    wf.DISPATCHED: ["dispatch"],
    wf.HANDLING: ["dispatch", "accept"],
    wf.ESCALATED: ["dispatch", "escalate"],
    wf.RESOLVED: ["dispatch", "accept", "resolve"],
    wf.REVISITED: ["dispatch", "accept", "resolve", "revisit"],
    wf.CLOSED: ["dispatch", "accept", "resolve", "revisit", "close"],
    wf.CANCELLED: ["cancel"],
    wf.MERGED: ["merge"],
}


# ---------------------------------------------------------------------- intake
def test_report_records_owner_worker_and_the_place_as_given(module_service):
    svc = module_service
    v = svc.store.current_version(DISTRICT)
    inc = new(svc, reporter="王女士", reporter_contact="13800001111", address="仙林大道")
    assert (inc.grid_code, inc.grid1_code, inc.version_id, inc.state) == (
        OWNER,
        OWNER1,
        v.id,
        "reported",
    )
    assert inc.worker == svc.locate(*POINT).grid2.people["worker"] and inc.worker
    assert (inc.lon, inc.lat, inc.input) == (*POINT, None)
    assert [(e["action"], e["from_state"], e["to_state"], e["note"]) for e in inc.events] == [
        ("report", None, "reported", "占道摆摊")
    ]
    # the same place in GCJ-02 (a phone map) lands in the same grid; the input is kept
    gx, gy = from_wgs84(*POINT, "gcj02")
    twin = U.report(svc, DISP, gx, gy, "gcj02", category=CAT, channel="app")
    assert twin.grid_code == OWNER
    assert (twin.lon, twin.lat) == pytest.approx(POINT, abs=1e-7)
    assert twin.input == {"x": gx, "y": gy, "crs": "gcj02"}


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"category": "9999"}, "unknown incident category"),
        ({"channel": "pigeon"}, "unknown channel"),
        ({"informant_kind": "greening"}, "both a kind and a name"),
        ({"informant_kind": "spy", "informant_name": "张三"}, "unknown informant kind"),
        ({"unit_code": "nope"}, "no unit"),
        ({"grid_code": "320113005001001"}, "not one that may own this place"),
        ({"media_url": "javascript:alert(1)"}, "media_url"),
        ({"photos": [b"not an image"]}, "JPEG, PNG or WebP"),
        ({"description": "x" * 5000}, "at most 4000"),
    ],
)
def test_bad_reports_are_refused_and_nothing_is_written(module_service, kw, message):
    before = (
        table_rows(module_service.store, t.incidents),
        table_rows(module_service.store, t.incident_photos),
    )
    with pytest.raises(InputError, match=message):
        new(module_service, **kw)
    after = (
        table_rows(module_service.store, t.incidents),
        table_rows(module_service.store, t.incident_photos),
    )
    assert after == before
    folder = module_service.policy.photo_dir
    assert not folder.exists() or not any(folder.iterdir())


def test_a_place_outside_the_district_is_refused_naming_the_nearest_grid(module_service):
    with pytest.raises(InputError, match="outside the district.*nearest grid"):
        U.report(module_service, DISP, 118.5, 32.0, category=CAT)


def test_near_a_boundary_the_dispatcher_confirms_a_neighbouring_grid(module_service):
    svc = module_service
    loc = svc.current()[1]
    grid = loc.district.grids2.set_index("code").geometry[OWNER]
    # a point on OWNER's boundary: the locator names one owner and the other as a candidate
    x, y = grid.exterior.interpolate(0.37, normalized=True).coords[0]
    where = svc.locate(x, y)
    assert where.candidates, "a point on the edge has a neighbour to confirm"
    other = where.candidates[0].grid.code
    inc = U.report(svc, DISP, x, y, category=CAT, grid_code=other)
    assert inc.grid_code == other and inc.grid1_code == where.candidates[0].grid.parent


def test_photos_are_kept_with_a_thumbnail(module_service):
    svc = module_service
    inc = new(svc, photos=[jpeg(), jpeg(100, 80)])
    assert [(p["width"], p["height"], p["content_type"]) for p in inc.photos] == [
        (640, 480, "image/jpeg"),
        (100, 80, "image/jpeg"),
    ]
    assert inc.photos[0]["event_id"] == inc.events[0]["id"]
    data, kind = U.photo(svc, DISP, inc.photos[0]["id"])
    assert (data[:2], kind) == (b"\xff\xd8", "image/jpeg")
    thumb, _ = U.photo(svc, DISP, inc.photos[0]["id"], thumb=True)
    assert Image.open(io.BytesIO(thumb)).size == (320, 240)
    with pytest.raises(Forbidden):
        U.photo(svc, Actor("li", "worker", frozenset({"320113005001001"})), inc.photos[0]["id"])


# ---------------------------------------------------------------------- the workflow
def test_the_four_steps_from_report_to_closed(module_service, monkeypatch):
    svc = module_service
    # dispatched on Wednesday 30 September 2026: National Day and its week off follow
    sept30 = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
    monkeypatch.setattr(U, "utcnow", lambda: sept30)
    inc = U.act(svc, DISP, new(svc).id, "dispatch", note="派给网格员")
    # 2 working days: Thu 8 and Fri 9 October (the holiday runs 1 to 7 October)
    assert inc.due_at == datetime(2026, 10, 10, tzinfo=BEIJING) == deadline(sept30, 2)
    assert (inc.state, inc.dispatched_at) == ("dispatched", sept30)
    inc = U.act(svc, WORKER, inc.id, "accept")
    assert inc.state == "handling"
    with pytest.raises(InputError, match="say why"):
        U.act(svc, WORKER, inc.id, "escalate")
    inc = U.act(svc, WORKER, inc.id, "escalate", note="需要执法中队会办", workdays=3)
    assert (inc.state, inc.office, inc.escalated_at) == ("escalated", OFFICE_NAME, sept30)
    assert inc.office_due_at == datetime(
        2026, 10, 11, tzinfo=BEIJING
    )  # Thu 8, Fri 9, Sat 10 (调休)
    assert inc.deadline() == inc.office_due_at
    # the office user sees it now, and resolves it
    assert U.get(svc, OFFICE, inc.id).id == inc.id
    inc = U.act(svc, OFFICE, inc.id, "resolve", note="已清理", photos=[jpeg()])
    assert inc.state == "resolved" and len(inc.photos) == 1
    assert inc.photos[0]["event_id"] == inc.events[-1]["id"]
    assert inc.revisit_due_at == deadline(sept30, svc.policy.revisit_workdays)
    inc = U.act(svc, WORKER, inc.id, "revisit", passed=True, satisfaction="基本满意", note="回头看")
    assert (inc.state, inc.satisfaction) == ("revisited", "fair")
    inc = U.act(svc, DISP, inc.id, "close")
    assert (inc.state, inc.closed_at, inc.recurrences) == ("closed", sept30, 0)
    assert [(e["action"], e["from_state"], e["to_state"], e["actor"]) for e in inc.events] == [
        ("report", None, "reported", "disp"),
        ("dispatch", "reported", "dispatched", "disp"),
        ("accept", "dispatched", "handling", "zhou"),
        ("escalate", "handling", "escalated", "zhou"),
        ("resolve", "escalated", "resolved", "chengguan"),
        ("revisit", "resolved", "revisited", "zhou"),
        ("close", "revisited", "closed", "disp"),
    ]
    assert inc.events[3]["detail"] == {"office": OFFICE_NAME, "workdays": 3}
    assert inc.events[5]["detail"] == {"passed": True, "satisfaction": "fair"}
    ats = [e["at"] for e in inc.events]
    assert ats == sorted(ats)


def test_a_failed_return_visit_and_a_reopen_count_recurrences(module_service):
    svc = module_service
    inc = walk(svc, PATHS[wf.RESOLVED])
    with pytest.raises(InputError, match="passed"):
        U.act(svc, WORKER, inc.id, "revisit")
    with pytest.raises(InputError, match="satisfaction"):
        U.act(svc, WORKER, inc.id, "revisit", passed=True)
    inc = U.act(svc, WORKER, inc.id, "revisit", passed=False, note="摊位又回来了")
    assert (inc.state, inc.recurrences, inc.resolved_at, inc.revisit_due_at) == (
        "dispatched",
        1,
        None,
        None,
    )
    assert inc.due_at > inc.dispatched_at
    inc = walk(svc, ["accept", "resolve", "revisit", "close"], inc)
    inc = U.act(svc, DISP, inc.id, "reopen", note="市民再次来电")
    assert (inc.state, inc.recurrences, inc.closed_at, inc.satisfaction) == (
        "dispatched",
        2,
        None,
        None,
    )


def _every_refused_step():
    for state, path in PATHS.items():
        for action in ACTIONS:
            if action not in allowed_actions(state):
                yield pytest.param(path, action, id=f"{state}-{action}")


@pytest.mark.parametrize(("path", "action"), list(_every_refused_step()))
def test_every_step_the_workflow_does_not_allow_is_refused_naming_the_allowed_ones(
    module_service, path, action
):
    svc = module_service
    inc = walk(svc, path)
    events = table_rows(svc.store, t.incident_events)
    allowed = ", ".join(allowed_actions(inc.state)) or "none"
    with pytest.raises(
        InputError,
        match=f"cannot {action} an incident that is {inc.state} \\(allowed now: {allowed}",
    ):
        U.act(
            svc, ADMIN, inc.id, action, note="n", passed=True, satisfaction="满意", into=new(svc).id
        )
    assert svc.store.incident(inc.id) == inc
    assert (
        len(table_rows(svc.store, t.incident_events)) == len(events) + 1
    )  # the merge target's report only


def test_an_unknown_action_lists_the_actions(module_service):
    with pytest.raises(
        InputError, match="unknown incident action 'archive' \\(actions: dispatch, accept"
    ):
        U.act(module_service, ADMIN, new(module_service).id, "archive")
    with pytest.raises(NotFound):
        U.act(module_service, ADMIN, 10**7, "dispatch")


def test_a_step_from_a_stale_read_is_a_conflict(module_service):
    svc = module_service
    inc = new(svc)
    U.act(svc, DISP, inc.id, "dispatch")
    with pytest.raises(Conflict, match="changed by someone else"):
        svc.store.apply(inc, "cancel", {"state": "cancelled"}, actor="other", note="late")
    assert svc.store.incident(inc.id).state == "dispatched"


# ---------------------------------------------------------------------- who may do what
@pytest.mark.parametrize("action", list(ACTIONS))
def test_roles_that_may_not_take_a_step_get_forbidden(module_service, action):
    svc = module_service
    from geogrid.access import RULES

    allowed = RULES[f"incident_{action}"].roles
    for who in (DISP, PLANNER, WORKER, OFFICE):
        if who.role in allowed:
            continue
        inc = walk(svc, {"dispatch": [], "accept": ["dispatch"]}.get(action, ["dispatch"]))
        with pytest.raises(Forbidden, match="may not"):
            U.act(svc, who, inc.id, action, note="n")
        assert svc.store.incident(inc.id) == inc


def test_a_worker_acts_in_their_own_grid_only(module_service):
    svc = module_service
    inc = walk(svc, ["dispatch"])
    stranger = Actor("li", "worker", frozenset({sibling(sample())}))
    for call in (
        lambda: U.get(svc, stranger, inc.id),
        lambda: U.act(svc, stranger, inc.id, "accept"),
        lambda: U.add_photos(svc, stranger, inc.id, [jpeg()]),
    ):
        with pytest.raises(Forbidden, match="works in grid"):
            call()
    total, found = U.search(svc, stranger, IncidentQuery(limit=1000))
    assert inc.id not in {i.id for i in found}
    assert all(i.grid_code == sibling(sample()) for i in found)
    with pytest.raises(Forbidden):
        U.search(svc, stranger, IncidentQuery(grid=OWNER))
    assert U.act(svc, WORKER, inc.id, "accept").state == "handling"
    assert inc.id in {i.id for i in U.search(svc, WORKER, IncidentQuery(limit=1000))[1]}


def test_an_office_user_sees_and_resolves_what_is_escalated_to_their_office_only(module_service):
    svc = module_service
    inc = walk(svc, ["dispatch"])
    with pytest.raises(Forbidden, match="not escalated to it"):
        U.get(svc, OFFICE, inc.id)
    inc = U.act(svc, DISP, inc.id, "escalate", note="会办", office="街道城建中心")
    with pytest.raises(Forbidden):
        U.act(svc, OFFICE, inc.id, "resolve", note="不是我们的")
    mine = walk(svc, ["dispatch", "escalate"])
    assert mine.office == OFFICE_NAME  # the category's office by default
    listed = U.search(svc, OFFICE, IncidentQuery(limit=1000))[1]
    assert mine.id in {i.id for i in listed} and inc.id not in {i.id for i in listed}
    assert all(i.office == OFFICE_NAME for i in listed)
    with pytest.raises(Forbidden, match="may not"):
        U.act(svc, OFFICE, mine.id, "close")
    assert U.act(svc, OFFICE, mine.id, "resolve", note="已处理").state == "resolved"
    with pytest.raises(Forbidden, match="only while it is escalated"):
        U.act(svc, OFFICE, mine.id, "resolve", note="again")


def test_reporting_needs_a_role_that_may(module_service):
    before = table_rows(module_service.store, t.incidents)
    for who in (PLANNER, WORKER, OFFICE):
        with pytest.raises(Forbidden):
            U.report(module_service, who, *POINT, category=CAT)
    assert table_rows(module_service.store, t.incidents) == before


# ---------------------------------------------------------------------- duplicates, merge, reassign
def test_possible_duplicates_are_found_and_merged_keeping_both_reporters(module_service):
    svc = module_service
    first = new(svc, category="0102", reporter="甲")
    x, y = POINT[0] + 0.0003, POINT[1]  # about 28 m east
    dups = U.duplicates(svc, DISP, x, y, category="0102")
    assert [(i.id, round(d)) for i, d in dups][:1] == [(first.id, 28)]
    assert U.duplicates(svc, DISP, x, y, category="0103") == []
    assert U.duplicates(svc, DISP, POINT[0] + 0.01, y, category="0102") == []  # ~1 km away
    merged = U.report(svc, DISP, x, y, category="0102", reporter="乙", merge_into=first.id)
    assert merged.id == first.id and merged.state == "reported"
    [dup_id] = merged.merged
    dup = svc.store.incident(dup_id)
    assert (dup.state, dup.merged_into, dup.reporter) == ("merged", first.id, "乙")
    assert merged.events[-1]["action"] == "merge"
    assert merged.events[-1]["detail"] == {"incident": dup_id, "reporter": "乙", "channel": "phone"}
    # a merged incident is over, and nothing merges into a closed one
    closed = walk(svc, PATHS[wf.CLOSED])
    with pytest.raises(InputError, match="merge only into one not yet resolved"):
        U.act(svc, DISP, new(svc).id, "merge", into=closed.id)
    # nor into a resolved one (the problem back is a recurrence) nor is it offered as one
    resolved = walk(svc, PATHS[wf.RESOLVED])
    assert resolved.id not in {i.id for i, _ in U.duplicates(svc, DISP, *POINT, category=CAT)}
    before = svc.store.count_incidents(svc.district_code)
    with pytest.raises(InputError, match="is resolved: merge only into one not yet resolved"):
        U.report(svc, DISP, *POINT, category=CAT, merge_into=resolved.id)
    assert svc.store.count_incidents(svc.district_code) == before  # nothing half-written
    with pytest.raises(InputError, match="into itself"):
        inc = new(svc)
        U.act(svc, DISP, inc.id, "merge", into=inc.id)


def test_a_report_merged_into_an_incident_changed_meanwhile_is_not_kept(module_service):
    """Report and merge are one transaction: a target changed since it was read refuses both."""
    svc = module_service
    target = walk(svc, ["dispatch"])
    take(svc, target, "accept")  # someone accepts it while the report is being typed
    values = {k: getattr(target, k) for k in ("district_code", "version_id", "grid_code",
              "grid1_code", "lon", "lat", "category", "channel")}  # fmt: skip
    values.update(description="又坏了", state=wf.REPORTED, recurrences=0)
    before = svc.store.count_incidents(svc.district_code)
    with pytest.raises(Conflict, match="changed by someone else"):
        svc.store.create_incident(values, actor="disp", merge_into=target)
    assert svc.store.count_incidents(svc.district_code) == before


def test_reassigning_is_an_explicit_logged_step(module_service):
    svc = module_service
    inc = walk(svc, ["dispatch"])
    other = sibling(sample())
    with pytest.raises(InputError, match="say why"):
        U.reassign(svc, DISP, inc.id, grid_code=other)
    with pytest.raises(Forbidden):
        U.reassign(svc, WORKER, inc.id, grid_code=other, note="不归我")
    moved = U.reassign(svc, DISP, inc.id, grid_code=other, note="位置在隔壁网格")
    worker = next(g.people["worker"] for g in svc.current()[1].grids if g.code == other)
    assert (moved.grid_code, moved.worker, moved.state) == (other, worker, "dispatched")
    assert moved.events[-1]["action"] == "reassign"
    assert moved.events[-1]["detail"]["from_grid"] == OWNER
    assert U.reassign(svc, DISP, inc.id, worker="临时网格员", note="顶班").worker == "临时网格员"


# ---------------------------------------------------------------------- lists
def test_lists_filter_sort_and_page_in_sql(module_service):
    svc = module_service
    a = walk(svc, ["dispatch"], new(svc, category="0101"))
    b = walk(svc, ["dispatch"], new(svc, category="0102"))
    with svc.store.engine.begin() as conn:  # a's deadline has passed
        conn.execute(
            t.incidents.update()
            .where(t.incidents.c.id == a.id)
            .values(due_at=utcnow() - timedelta(hours=1))
        )
    overdue = U.search(svc, DISP, IncidentQuery(overdue=True, limit=1000))[1]
    assert a.id in {i.id for i in overdue} and b.id not in {i.id for i in overdue}
    assert all(i.overdue(utcnow()) for i in overdue)
    total, page = U.search(
        svc, DISP, IncidentQuery(states=("dispatched",), community=OWNER1, limit=2)
    )
    assert total >= 2 and len(page) == 2 and page[0].id > page[1].id
    total2, page2 = U.search(
        svc, DISP, IncidentQuery(states=("dispatched",), community=OWNER1, limit=2, offset=2)
    )
    assert total2 == total and not {i.id for i in page} & {i.id for i in page2}
    oldest = U.search(svc, DISP, IncidentQuery(sort="created_at", limit=1))[1][0]
    assert oldest.id == min(r[0] for r in table_rows(svc.store, t.incidents))
    found = U.search(svc, DISP, IncidentQuery(text=str(a.id)))[1]
    assert a.id in {i.id for i in found}
    assert U.search(svc, DISP, IncidentQuery(category="01", limit=1000))[0] >= 2
    assert U.search(svc, DISP, IncidentQuery(category="07"))[0] == 0


def test_export_as_csv_and_xlsx(module_service):
    import csv

    from openpyxl import load_workbook

    svc = module_service
    inc = new(svc, description='=HYPERLINK("x")', reporter="王女士")
    q = IncidentQuery(text=str(inc.id))
    data, kind, name = U.export(svc, DISP, q, "csv")
    assert (kind, name) == ("text/csv; charset=utf-8", "incidents.csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "上报时间", "状态"]
    row = dict(zip(rows[0], next(r for r in rows[1:] if r[0] == str(inc.id)), strict=True))
    assert (row["状态"], row["小类"], row["上报人"]) == ("已上报", "违章张贴悬挂广告", "王女士")
    assert row["问题描述"].startswith("'=")  # never a formula
    data, kind, _ = U.export(svc, DISP, q, "xlsx", lang="en")
    ws = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in ws[1]]
    assert header[:3] == ["No.", "Reported", "State"]
    assert any(r[0].value == inc.id and r[2].value == "reported" for r in ws.iter_rows(min_row=2))
    with pytest.raises(InputError, match="csv or xlsx"):
        U.export(svc, DISP, q, "pdf")


# ---------------------------------------------------------------------- categories
def test_the_catalogue_is_edited_by_admins_and_a_retired_category_takes_no_reports(module_service):
    svc = module_service
    cat = U.catalogue(svc, DISP).get("1201")
    changed = Category(**{**cat.to_dict(), "workdays": 7, "office": "街道综治办"})
    with pytest.raises(Forbidden):
        U.save_category(svc, DISP, changed)
    U.save_category(svc, ADMIN, changed)
    assert U.catalogue(svc, DISP).get("1201").workdays == 7
    inc = U.act(svc, DISP, new(svc, category="1201").id, "dispatch")
    assert inc.due_at == deadline(inc.dispatched_at, 7)
    U.save_category(svc, ADMIN, changed, active=False)
    with pytest.raises(InputError, match="unknown incident category '1201'"):
        new(svc, category="1201")
    assert U.get(svc, DISP, inc.id).category == "1201"  # kept on what was reported
    U.save_category(svc, ADMIN, changed, active=True)
    with pytest.raises(InputError, match="working days"):
        U.save_category(svc, ADMIN, Category(**{**cat.to_dict(), "workdays": 0}))


# ---------------------------------------------------------------------- boundaries change
def test_open_incidents_follow_their_new_grid_when_a_version_is_published(seeded):
    from geogrid.service import Service

    store, v1 = seeded
    svc = Service(store)
    open_ = U.act(svc, DISP, U.report(svc, DISP, *POINT, category=CAT).id, "dispatch")
    done = walk(svc, PATHS[wf.CLOSED])
    d2 = swap_grids(sample())  # OWNER's place now belongs to its sibling
    other = sibling(sample())
    draft = store.create_version(d2, actor="planner")
    v2 = store.publish(draft.id, actor="planner")
    moved = store.incident(open_.id)
    assert (moved.grid_code, moved.grid1_code, moved.version_id) == (other, OWNER1, v2.id)
    worker = next(g.people["worker"] for g in Service(store).current()[1].grids if g.code == other)
    assert moved.worker == worker
    e = moved.events[-1]
    assert (e["action"], e["actor"], e["from_state"], e["to_state"]) == (
        "reroute",
        "planner",
        "dispatched",
        "dispatched",
    )
    assert e["detail"]["from_grid"] == OWNER and e["detail"]["to_grid"] == other
    assert e["detail"]["version"] == v2.number
    assert store.incident(done.id) == done  # closed: its history stays where it was
    with store.engine.connect() as conn:
        detail = (
            conn.execute(
                sa.select(t.audit_log.c.detail)
                .where(t.audit_log.c.action == "publish")
                .order_by(t.audit_log.c.id.desc())
            )
            .scalars()
            .first()
        )
    assert detail["rerouted"] == 1
