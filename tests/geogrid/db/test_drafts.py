"""The planner's drafts on both backends, through the use cases (geogrid.usecases.planning):
edits with revisions, undo and redo, an invalid draft saved but not published, publishing moving
units and open incidents, a stale draft refused and rebased, rollback, planners only, and
drafts in a dump."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
import shapely
import sqlalchemy as sa
from geogrid_db_support import DISTRICT, OWNER, POINT, move, report, snapshot, store_incident

from geogrid.access import Actor
from geogrid.db import Store
from geogrid.db import schema as t
from geogrid.db.dump import dump, restore
from geogrid.db.types import utcnow
from geogrid.errors import Conflict, Forbidden, InputError, NotFound, ValidationFailed
from geogrid.incidents import CANCELLED, CLOSED
from geogrid.planning import OVERRIDE, Split
from geogrid.planning import check as checks
from geogrid.service import Service
from geogrid.usecases import planning

PLANNER = Actor("guihua", "planner")
ADMIN = Actor("admin", "admin")
#: A neighbour of OWNER in the same community (东阳社区), 13 units, worker 苏雪.
NEXT = "320113005007006"
#: Another grid of the community (worker 郝文).
OTHER = "320113005007003"
MERGE = {"kind": "merge", "codes": [OWNER, NEXT]}
#: Moving this grid to community 004 leaves community 003 in two parts (an exclave).
EXCLAVE = {"kind": "move_grid", "code": "320113005003002", "community": "320113005004"}


@pytest.fixture
def svc(seeded):
    store, _ = seeded
    s = Service(store)
    yield s
    s.close()


def inside(district, code: str) -> tuple[float, float]:
    p = shapely.point_on_surface(district.grid2(code).geometry)
    return (p.x, p.y)


def findings(rep) -> list[tuple]:
    return sorted((f.severity, f.check, f.codes) for f in rep.errors + rep.notices)


def a_split(district, code: str) -> dict:
    """A straight line through the grid that splits it in two (the first angle that does)."""
    g = district.grid2(code).geometry
    x, y = inside(district, code)
    for k in range(12):
        a = k * math.pi / 12
        dx, dy = 0.05 * math.cos(a), 0.05 * math.sin(a)
        edit = Split(code, [(x - dx, y - dy), (x + dx, y + dy)])
        try:
            edit.apply(district)
        except InputError:
            continue
        return edit.to_dict()
    raise AssertionError(f"no straight split of {code} through {x}, {y} ({g.area})")


# ---------------------------------------------------------------------- edits
def test_edits_undo_redo_and_revisions(svc):
    store = svc.store
    state = planning.open_draft(svc, PLANNER, "东阳社区调整")
    assert state.draft.revision == 0 and state.base.number == 1 and not state.stale
    assert len(state.district.grids2) == 156 and state.report.ok

    merged = planning.edit(svc, PLANNER, state.draft.id, MERGE, 0)
    assert merged.result.retired == (NEXT,) and merged.result.touched == (OWNER,)
    assert merged.state.draft.revision == 1 and len(merged.state.district.grids2) == 155
    assert not (merged.state.district.units["grid"] == NEXT).any()
    assert merged.state.changed == (OWNER,)
    renamed = planning.edit(
        svc, PLANNER, state.draft.id, {"kind": "rename", "code": OTHER, "name": "新名字"}, 1
    )
    assert renamed.state.district.grid2(OTHER)["name"] == "新名字"

    # an edit made on an old revision is refused, and changes nothing
    with pytest.raises(Conflict, match="changed since revision 1 .*revision 2 now"):
        planning.edit(
            svc, PLANNER, state.draft.id, {"kind": "rename", "code": OTHER, "name": "x"}, 1
        )
    # so is an edit that cannot be made
    with pytest.raises(InputError, match="not neighbours"):
        planning.edit(svc, PLANNER, state.draft.id, {"kind": "merge", "codes": [OWNER, "320113005007001"]}, 2)  # fmt: skip
    with pytest.raises(InputError, match="unknown edit kind"):
        planning.edit(svc, PLANNER, state.draft.id, {"kind": "paint"}, 2)
    assert store.draft(state.draft.id).revision == 2

    undone = planning.undo(svc, PLANNER, state.draft.id)
    assert undone.result.kind == "rename" and undone.state.draft.revision == 3
    assert undone.state.district.grid2(OTHER)["name"] != "新名字"
    assert len(undone.state.district.grids2) == 155  # the merge stays
    redone = planning.redo(svc, PLANNER, state.draft.id, 3)
    assert redone.state.district.grid2(OTHER)["name"] == "新名字"
    with pytest.raises(InputError, match="no edit to redo"):
        planning.redo(svc, PLANNER, state.draft.id)

    # a new edit after an undo drops the undone edit
    planning.undo(svc, PLANNER, state.draft.id)
    worker = {"kind": "set_worker", "code": OTHER, "name": "钱新", "phone": "13800000009"}
    last = planning.edit(svc, PLANNER, state.draft.id, worker, 5)
    draft = store.draft(state.draft.id)
    assert [(e.seq, e.edit["kind"], e.active) for e in draft.edits] == [
        (1, "merge", True),
        (2, "set_worker", True),
    ]
    assert draft.revision == 6 and [e.actor for e in draft.edits] == ["guihua", "guihua"]
    with pytest.raises(InputError, match="no edit to redo"):
        planning.redo(svc, PLANNER, state.draft.id)

    # the findings kept after each edit are those of the full validator
    assert findings(last.state.report) == findings(checks.check_grids(last.state.district, None))
    # another process replays the stored edits to the same district
    other = Service(store)
    fresh = planning.draft_state(svc=other, actor=PLANNER, draft_id=state.draft.id)
    assert fresh.draft.revision == 6
    assert list(fresh.district.grids2["code"]) == list(last.state.district.grids2["code"])
    assert all(
        a.equals_exact(b, 0)
        for a, b in zip(fresh.district.grids2.geometry, last.state.district.grids2.geometry, strict=True)
    )  # fmt: skip
    assert fresh.district.grid2(OTHER)["worker"] == "钱新"
    assert findings(fresh.report) == findings(last.state.report)

    # several drafts, each naming its base; the audit log has every step
    planning.open_draft(svc, ADMIN, "另一个", base=1)
    listed = planning.drafts(svc, PLANNER)
    assert [d.name for d in listed] == ["另一个", "东阳社区调整"]
    assert {d.base_version_id for d in listed} == {svc.current()[0].id}
    with store.engine.connect() as conn:
        actions = conn.execute(
            sa.select(t.audit_log.c.action)
            .where(t.audit_log.c.entity == "draft", t.audit_log.c.entity_key == str(state.draft.id))
            .order_by(t.audit_log.c.id)
        ).scalars().all()  # fmt: skip
    assert actions == ["create", "edit", "edit", "undo", "redo", "undo", "edit"]


def test_new_grids_take_new_codes_and_retired_codes_never_come_back(svc):
    state = planning.open_draft(svc, PLANNER, "拆分")
    split = planning.edit(svc, PLANNER, state.draft.id, a_split(state.district, OTHER), 0)
    first = split.result.created
    assert OTHER in split.result.retired and len(first) == 2
    assert all(c.startswith("320113005007") and c > "320113005007013" for c in first)
    assert set(split.state.vacant) == set(first)  # new grids need a worker
    # merged back and split again: the codes used a moment ago are not given again
    merged = planning.edit(svc, PLANNER, state.draft.id, {"kind": "merge", "codes": list(first)}, 1)
    again = planning.edit(svc, PLANNER, state.draft.id, a_split(merged.state.district, first[0]), 2)
    assert not set(again.result.created) & {*first, OTHER}


# ---------------------------------------------------------------------- publishing
def test_an_invalid_draft_is_saved_but_not_published(svc, monkeypatch):
    store = svc.store
    monkeypatch.setenv("GEOGRID_ALLOW_EXCLAVES", "0")
    state = planning.open_draft(svc, PLANNER, "飞地")
    answer = planning.edit(svc, PLANNER, state.draft.id, EXCLAVE, 0)
    assert [f.check for f in answer.check.errors] == ["multipart"]
    assert "320113005003" in answer.check.errors[0].message
    assert not answer.state.report.ok and store.draft(state.draft.id).revision == 1
    with pytest.raises(ValidationFailed) as failed:
        planning.publish(svc, PLANNER, state.draft.id, "移交")
    assert [f.check for f in failed.value.report.errors] == ["multipart"]
    assert store.current_version(DISTRICT).number == 1
    assert store.draft(state.draft.id).status == "open"
    assert len(store.versions(DISTRICT)) == 1  # nothing stored
    # where exclaves are allowed (the default) it is a notice, and publishing goes ahead
    monkeypatch.delenv("GEOGRID_ALLOW_EXCLAVES")
    state = planning.draft_state(svc, PLANNER, state.draft.id)
    assert state.report.ok and "multipart" in [f.check for f in state.report.notices]
    done = planning.publish(svc, PLANNER, state.draft.id, "移交")
    assert done.version.number == 2 and "multipart" in [f.check for f in done.notices]


def test_publish_moves_units_and_open_incidents(svc):
    store = svc.store
    v1 = store.current_version(DISTRICT)
    base = store.load_district(v1.id)
    moving = set(base.units.loc[base.units["grid"] == NEXT, "code"])
    assert len(moving) == 13
    x, y = inside(base, NEXT)
    open_ = report(svc, x, y, category="0601", description="井盖缺失", dispatch=True)
    done_ = move(store, report(svc, x, y, category="0601", dispatch=True), CLOSED, action="close")
    stays = report(svc, *POINT, category="0601", dispatch=True)
    assert open_.grid_code == NEXT and open_.worker == "苏雪" and done_.state == CLOSED

    state = planning.open_draft(svc, PLANNER, "合并")
    planning.edit(svc, PLANNER, state.draft.id, MERGE, 0)
    preview = planning.impact(svc, PLANNER, state.draft.id)
    assert {u["code"] for u in preview["units"]} == moving
    assert {(u["from_grid"], u["to_grid"], u["to_worker"]) for u in preview["units"]} == {
        (NEXT, OWNER, "周俊峰")
    }
    assert [(i["id"], i["from_grid"], i["to_grid"]) for i in preview["incidents"]] == [
        (open_.id, NEXT, OWNER)
    ]
    assert {g["code"]: g["status"] for g in preview["grids"]} == {OWNER: "changed", NEXT: "retired"}

    with pytest.raises(InputError, match="needs a message"):
        planning.publish(svc, PLANNER, state.draft.id, "  ")
    with pytest.raises(Conflict, match="revision 0"):
        planning.publish(svc, PLANNER, state.draft.id, "合并", revision=0)
    answer = planning.publish(svc, PLANNER, state.draft.id, "合并两个网格", revision=1)
    v2 = answer.version
    assert (v2.number, v2.current, v2.base_id, v2.note) == (2, True, v1.id, "合并两个网格")
    assert answer.units_moved == 13 and answer.incidents_moved == 1
    assert answer.draft.status == "published" and answer.draft.published_version_id == v2.id

    # the new version owns the units; the open incident followed, the closed one did not
    after = store.load_district(v2.id)
    assert NEXT not in set(after.grids2["code"])
    assert set(after.units.loc[after.units["grid"] == OWNER, "code"]) >= moving
    moved = store.incident(open_.id)
    assert (moved.grid_code, moved.worker, moved.version_id) == (OWNER, "周俊峰", v2.id)
    assert store.incident(done_.id).grid_code == NEXT
    assert store.incident(stays.id).grid_code == OWNER
    assert svc.locate(x, y).grid2.code == OWNER  # this process answers from v2 at once
    # the retired grid's worker is on duty there no longer (the duty ended at publishing)
    [duty] = [d for d in store.duty_history(DISTRICT, NEXT) if d.role == "worker"][-1:]
    assert duty.name == "苏雪" and duty.valid_to is not None
    assert NEXT not in store.duties_at(DISTRICT, utcnow())
    # the audit log says who published what, and why
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(t.audit_log).where(
                t.audit_log.c.entity == "draft", t.audit_log.c.action == "publish"
            )
        ).one()
    assert row.actor == "guihua"
    assert row.detail["message"] == "合并两个网格" and row.detail["version"] == 2
    assert row.detail["author"] == "guihua" and row.detail["rerouted"] == 1
    # a published draft no longer changes
    with pytest.raises(Conflict, match="published"):
        planning.edit(svc, PLANNER, state.draft.id, {"kind": "rename", "code": OTHER, "name": "x"}, 2)  # fmt: skip
    assert planning.draft_state(svc, PLANNER, state.draft.id).draft.status == "published"


def test_the_workload_counts_incidents_by_the_drafts_own_grids(svc):
    """Open incidents now and those of the last 12 months, wherever they were recorded,
    counted by the grid of the draft that holds their place; cancelled and merged ones, and
    those older than 12 months, are not."""
    store = svc.store
    v1 = store.current_version(DISTRICT)
    base = store.load_district(v1.id)
    x, y = inside(base, NEXT)
    report(svc, x, y, category="0601", dispatch=True)  # open
    move(store, report(svc, x, y, category="0601", dispatch=True), CLOSED, action="close")
    move(store, report(svc, x, y, category="0601"), CANCELLED, action="cancel")
    report(svc, *inside(base, OWNER), category="0601")  # open, in OWNER
    now = utcnow()
    lon, lat = inside(base, OTHER)
    for days in (364, 366):  # just inside and just outside the 12 months
        old = store_incident(store, v1.id, lon=lon, lat=lat, grid_code=OTHER, state=CLOSED)
        with store.engine.begin() as conn:
            conn.execute(
                t.incidents.update()
                .where(t.incidents.c.id == old.id)
                .values(created_at=now - timedelta(days=days))
            )

    def rows(state) -> dict:
        table = planning.workload_of(svc, state, now=now)["grids"]
        return {r["code"]: (r["incidents_12m"], r["open_incidents"]) for r in table}

    state = planning.open_draft(svc, PLANNER, "工作量")
    before = rows(state)
    assert (before[NEXT], before[OWNER], before[OTHER]) == ((2, 1), (1, 1), (1, 0))
    merged = planning.edit(svc, PLANNER, state.draft.id, MERGE, 0).state
    after = rows(merged)
    assert NEXT not in after and after[OWNER] == (3, 2) and after[OTHER] == (1, 0)
    assert sum(n for n, _ in after.values()) == 4


def test_a_unit_placed_by_hand_keeps_its_reason_in_the_published_version(svc):
    store = svc.store
    base = store.load_district(store.current_version(DISTRICT).id)
    unit = base.units.loc[base.units["grid"] == NEXT, "code"].iloc[0]
    state = planning.open_draft(svc, PLANNER, "手工")
    by_hand = {"kind": "move_unit", "unit": unit, "grid": OWNER, "reason": "由东片工作站服务"}
    answer = planning.edit(svc, PLANNER, state.draft.id, by_hand, 0)
    assert answer.state.report.ok
    hand = [f for f in answer.state.report.notices if f.check == "unit-grid-mismatch"]
    assert [f.codes[0] for f in hand] == [unit] and "由东片工作站服务" in hand[0].message
    v2 = planning.publish(svc, PLANNER, state.draft.id, "手工调整").version
    kept = store.load_district(v2.id).units.set_index("code")
    assert kept.loc[unit, "grid"] == OWNER and kept.loc[unit, OVERRIDE] == "由东片工作站服务"
    assert kept[OVERRIDE].notna().sum() == 1
    # a draft of the new version starts from it, override included
    nxt = planning.open_draft(svc, PLANNER, "下一步")
    assert nxt.district.units.set_index("code").loc[unit, OVERRIDE] == "由东片工作站服务"


def test_a_stale_draft_is_refused_then_rebased(svc):
    store = svc.store
    first = planning.open_draft(svc, PLANNER, "合并")
    second = planning.open_draft(svc, ADMIN, "改名")
    planning.edit(svc, PLANNER, first.draft.id, MERGE, 0)
    doomed = {"kind": "rename", "code": NEXT, "name": "将被合并的网格"}
    planning.edit(svc, ADMIN, second.draft.id, doomed, 0)
    fine = {"kind": "rename", "code": OTHER, "name": "仍然可以改名"}
    planning.edit(svc, ADMIN, second.draft.id, fine, 1)
    planning.edit(svc, ADMIN, second.draft.id, {"kind": "rename", "code": OTHER, "name": "撤"}, 2)
    planning.undo(svc, ADMIN, second.draft.id)
    planning.publish(svc, PLANNER, first.draft.id, "合并")

    stale = planning.draft_state(svc, ADMIN, second.draft.id)
    assert stale.stale and (stale.base.number, stale.current.number) == (1, 2)
    with pytest.raises(Conflict) as refused:
        planning.publish(svc, ADMIN, second.draft.id, "改名")
    assert "version 1" in refused.value.message and "version 2" in refused.value.message
    assert "rebase" in refused.value.message
    assert store.current_version(DISTRICT).number == 2

    with pytest.raises(Conflict, match="revision 1"):
        planning.rebase(svc, ADMIN, second.draft.id, revision=1)
    rebased = planning.rebase(svc, ADMIN, second.draft.id)
    assert (rebased.from_version, rebased.to_version) == (1, 2)
    assert rebased.kept == 1 and rebased.undone_dropped == 1
    assert [(c["seq"], c["kind"]) for c in rebased.conflicts] == [(1, "rename")]
    assert NEXT in rebased.conflicts[0]["message"]
    state = rebased.state
    assert not state.stale and state.base.number == 2
    assert [e.edit for e in state.draft.edits] == [fine]
    assert state.district.grid2(OTHER)["name"] == "仍然可以改名"
    assert NEXT not in set(state.district.grids2["code"])  # the merge of version 2 is there
    with pytest.raises(InputError, match="nothing to rebase"):
        planning.rebase(svc, ADMIN, second.draft.id)
    v3 = planning.publish(svc, ADMIN, second.draft.id, "改名").version
    after = store.load_district(v3.id)
    assert v3.number == 3 and after.grid2(OTHER)["name"] == "仍然可以改名"
    assert NEXT not in set(after.grids2["code"])


def test_rollback_publishes_an_old_version_again(svc):
    store = svc.store
    v1 = store.current_version(DISTRICT)
    x, y = inside(store.load_district(v1.id), NEXT)
    inc = report(svc, x, y, category="0601", dispatch=True)
    state = planning.open_draft(svc, PLANNER, "合并")
    planning.edit(svc, PLANNER, state.draft.id, MERGE, 0)
    planning.publish(svc, PLANNER, state.draft.id, "合并")
    assert store.incident(inc.id).grid_code == OWNER

    with pytest.raises(InputError, match="current version already"):
        planning.rollback(svc, PLANNER, 2, "无")
    with pytest.raises(InputError, match="needs a message"):
        planning.rollback(svc, PLANNER, 1, "")
    with pytest.raises(NotFound):
        planning.rollback(svc, PLANNER, 9, "无")
    back = planning.rollback(svc, PLANNER, 1, "合并有误，恢复第1版")
    v3 = back.version
    assert (v3.number, v3.current, back.restored.number, back.replaced.number) == (3, True, 1, 2)
    assert back.incidents_moved == 1 and store.incident(inc.id).grid_code == NEXT
    restored = store.load_district(v3.id)
    original = store.load_district(v1.id)
    assert list(restored.grids2["code"]) == list(original.grids2["code"])
    assert list(restored.units["grid"]) == list(original.units["grid"])
    assert svc.locate(x, y).grid2.code == NEXT
    assert [v.number for v in store.versions(DISTRICT) if v.status == "published"] == [3, 2, 1]
    with store.engine.connect() as conn:
        acts = conn.execute(sa.select(t.activations.c.version_id).order_by(t.activations.c.id))
        v2 = store.version_by_number(DISTRICT, 2)
        assert acts.scalars().all() == [v1.id, v2.id, v3.id]
        row = conn.execute(sa.select(t.audit_log).where(t.audit_log.c.action == "rollback")).one()
    assert row.actor == "guihua" and row.entity_key == str(v3.id)
    assert row.detail == {"restored": 1, "replaced": 2, "message": "合并有误，恢复第1版"}
    # only a version that was current once comes back
    store.create_version(original, actor="p", note="草稿")
    with pytest.raises(InputError, match="never published"):
        planning.rollback(svc, PLANNER, 4, "草稿")


# ---------------------------------------------------------------------- who may
@pytest.mark.parametrize(
    "who",
    [
        Actor("diaodu", "dispatcher"),
        Actor("wangge", "worker", frozenset({OWNER})),
        Actor("jiedao", "office", office="街道城管科"),
    ],
    ids=lambda a: a.role,
)
def test_only_planners_and_admins_work_on_drafts(svc, who):
    store = svc.store
    mine = planning.open_draft(svc, PLANNER, "规划")
    calls = {
        "open_draft": lambda: planning.open_draft(svc, who, "x"),
        "drafts": lambda: planning.drafts(svc, who),
        "draft_state": lambda: planning.draft_state(svc, who, mine.draft.id),
        "edit": lambda: planning.edit(svc, who, mine.draft.id, MERGE, 0),
        "undo": lambda: planning.undo(svc, who, mine.draft.id),
        "redo": lambda: planning.redo(svc, who, mine.draft.id),
        "discard": lambda: planning.discard(svc, who, mine.draft.id),
        "impact": lambda: planning.impact(svc, who, mine.draft.id),
        "rebase": lambda: planning.rebase(svc, who, mine.draft.id),
        "publish": lambda: planning.publish(svc, who, mine.draft.id, "x"),
        "rollback": lambda: planning.rollback(svc, who, 1, "x"),
    }
    for name, call in calls.items():
        with pytest.raises(Forbidden, match="allowed: planner, admin"):
            call()
        assert name
    assert store.draft(mine.draft.id).revision == 0
    assert len(store.drafts(DISTRICT)) == 1
    # an administrator may
    planning.edit(svc, ADMIN, mine.draft.id, MERGE, 0)
    assert planning.discard(svc, ADMIN, mine.draft.id).status == "discarded"
    assert planning.drafts(svc, PLANNER) == []
    assert [d.status for d in planning.drafts(svc, PLANNER, status=None)] == ["discarded"]


# ---------------------------------------------------------------------- dump
def test_dump_and_restore_keep_the_drafts(svc, tmp_path):
    store = svc.store
    published = planning.open_draft(svc, PLANNER, "已发布")
    base = published.district
    unit = base.units.loc[base.units["grid"] == NEXT, "code"].iloc[0]
    by_hand = {"kind": "move_unit", "unit": unit, "grid": OWNER, "reason": "手工"}
    planning.edit(svc, PLANNER, published.draft.id, by_hand, 0)
    planning.publish(svc, PLANNER, published.draft.id, "手工")
    working = planning.open_draft(svc, PLANNER, "进行中")
    planning.edit(svc, PLANNER, working.draft.id, MERGE, 0)
    planning.edit(
        svc, PLANNER, working.draft.id, {"kind": "rename", "code": OTHER, "name": "甲"}, 1
    )
    planning.undo(svc, PLANNER, working.draft.id)
    planning.discard(svc, PLANNER, planning.open_draft(svc, PLANNER, "放弃").draft.id)
    before = planning.draft_state(svc, PLANNER, working.draft.id)

    counts = dump(store, tmp_path / "d.gpkg")
    assert (counts["drafts"], counts["draft_edits"]) == (3, 3)
    copy = Store(f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    try:
        restore(copy, tmp_path / "d.gpkg")
        mine, theirs = snapshot(store), snapshot(copy)
        for name in ("drafts", "draft_edits", "units", "versions"):
            assert mine[name] == theirs[name], name
        other = Service(copy)
        after = planning.draft_state(other, PLANNER, working.draft.id)
        assert after.draft == before.draft
        assert [e.active for e in after.draft.edits] == [True, False]
        assert list(after.district.grids2["code"]) == list(before.district.grids2["code"])
        units = copy.load_district(copy.current_version(DISTRICT).id).units.set_index("code")
        assert units.loc[unit, OVERRIDE] == "手工"
        # and the restored draft goes on
        redone = planning.redo(other, PLANNER, working.draft.id)
        assert redone.state.district.grid2(OTHER)["name"] == "甲"
    finally:
        copy.dispose()
