"""The duty roster on both backends: who was on duty for a grid at any time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from geogrid_db_support import (
    DISTRICT,
    OWNER,
    OWNER1,
    grid_value,
    sample,
    sibling,
    snapshot,
    with_worker,
)

from geogrid.db.types import utcnow
from geogrid.errors import InputError, NotFound

US = timedelta(microseconds=1)


def test_seeding_puts_everyone_named_on_duty(seeded):
    store, v1 = seeded
    d = sample()
    duties = store.duties_at(DISTRICT)
    by_role = {}
    for grid, roles in duties.items():
        for role, duty in roles.items():
            by_role.setdefault(role, {})[grid] = duty
    assert {r: len(g) for r, g in by_role.items()} == {"leader": 10, "office": 10, "worker": 156}
    for rec in d.grids2.to_dict("records"):
        duty = by_role["worker"][rec["code"]]
        assert (duty.name, duty.phone) == (rec["worker"], rec["worker_phone"])
        assert (duty.valid_from, duty.valid_to) == (v1.published_at, None)
    for rec in d.grids1.to_dict("records"):
        leader, office = by_role["leader"][rec["code"]], by_role["office"][rec["code"]]
        assert (leader.name, leader.phone, leader.title) == (
            rec["leader"],
            rec["leader_phone"],
            rec["leader_title"],
        )
        assert (office.name, office.phone, office.title) == (
            rec["office"],
            rec["office_phone"],
            None,
        )
    # nobody was on duty before the first publish
    assert store.duties_at(DISTRICT, v1.published_at - US) == {}


def test_assign_starts_a_new_duty_and_ends_the_old_one(seeded):
    store, v1 = seeded
    old = grid_value(sample(), OWNER, "worker")
    rev = store.state(DISTRICT)[1]
    t1 = utcnow()
    store.assign(
        DISTRICT, OWNER, "worker", "王新", "13800000001", actor="dispatcher", valid_from=t1
    )
    assert store.state(DISTRICT) == (v1.id, rev + 1)  # other processes notice the change

    before, at, after = (store.duties_at(DISTRICT, t) for t in (t1 - US, t1, utcnow()))
    assert before[OWNER]["worker"].name == old
    assert at[OWNER]["worker"].name == "王新" and after[OWNER]["worker"].phone == "13800000001"
    # the rest of the roster did not move
    assert {g: r for g, r in after.items() if g != OWNER} == {
        g: r for g, r in before.items() if g != OWNER
    }
    history = store.duty_history(DISTRICT, OWNER)
    assert [(h.name, h.valid_from, h.valid_to) for h in history] == [
        (old, v1.published_at, t1),
        ("王新", t1, None),
    ]

    # load_district carries whoever was on duty at the time asked for
    def worker_at(when):
        return grid_value(store.load_district(v1.id, people_at=when), OWNER, "worker")

    assert worker_at(t1 - US) == old
    assert worker_at(t1) == "王新"
    assert grid_value(store.load_district(v1.id), OWNER, "worker") == "王新"

    # a vacancy, then a leader changed on a first-level grid
    t2 = utcnow()
    store.assign(DISTRICT, OWNER, "worker", None, actor="dispatcher", valid_from=t2)
    assert "worker" not in store.duties_at(DISTRICT).get(OWNER, {})
    assert grid_value(store.load_district(v1.id), OWNER, "worker") is None
    assert worker_at(t2 - US) == "王新"
    store.assign(DISTRICT, OWNER1, "leader", "赵书记", "025-1", "书记", actor="dispatcher")
    leader = store.duties_at(DISTRICT)[OWNER1]["leader"]
    assert (leader.name, leader.phone, leader.title) == ("赵书记", "025-1", "书记")
    g1 = store.load_district(v1.id).grids1
    assert g1.loc[g1["code"] == OWNER1, "leader_title"].iloc[0] == "书记"

    # the people laid over a district already loaded are those a fresh load gives, then or now
    loaded = store.load_district(v1.id, people_at=t2 - US)
    for when in (t2 - US, None):
        fresh = store.load_district(v1.id, people_at=when)
        redone = store.with_roster(loaded, when)
        for layer in ("grids1", "grids2"):
            a, b = getattr(fresh, layer), getattr(redone, layer)
            assert list(a.columns) == list(b.columns)
            assert a.drop(columns="geometry").equals(b.drop(columns="geometry")), (layer, when)
        assert redone.grids2.geometry.equals(loaded.grids2.geometry)
    assert grid_value(store.with_roster(loaded), OWNER, "worker") is None


def test_assign_in_the_future(seeded):
    store, v1 = seeded
    old = grid_value(sample(), OWNER, "worker")
    later = utcnow() + timedelta(days=7)
    store.assign(DISTRICT, OWNER, "worker", "下周来", actor="dispatcher", valid_from=later)
    assert store.duties_at(DISTRICT)[OWNER]["worker"].name == old
    assert store.duties_at(DISTRICT, later)[OWNER]["worker"].name == "下周来"


@pytest.mark.parametrize(
    ("grid", "role", "error"),
    [
        (OWNER1, "worker", InputError),  # a worker on a first-level grid
        (OWNER, "leader", InputError),  # a leader on a second-level grid
        ("320113005099099", "worker", NotFound),  # no such grid
        (OWNER, "janitor", InputError),  # no such role
    ],
)
def test_assign_rejects_bad_input_and_writes_nothing(seeded, grid, role, error):
    store, v1 = seeded
    before = snapshot(store)
    with pytest.raises(error):
        store.assign(DISTRICT, grid, role, "某人", actor="dispatcher")
    assert snapshot(store) == before


def test_assign_refuses_text_the_database_cannot_keep(seeded):
    store, _ = seeded
    before = snapshot(store)
    with pytest.raises(InputError, match="NUL"):
        store.assign(DISTRICT, OWNER, "worker", "王\x00五", actor="dispatcher")
    with pytest.raises(InputError, match="longer than the 64 allowed"):
        store.assign(DISTRICT, OWNER, "worker", "王五", phone="1" * 65, actor="dispatcher")
    assert snapshot(store) == before


def test_assign_needs_a_published_version(store):
    store.create_version(sample(), actor="planner")  # a draft only
    before = snapshot(store)
    with pytest.raises(NotFound):
        store.assign(DISTRICT, OWNER, "worker", "某人", actor="dispatcher")
    with pytest.raises(NotFound):
        store.assign("320113999", OWNER, "worker", "某人", actor="dispatcher")
    assert snapshot(store) == before


def test_publish_syncs_changed_people_only(seeded):
    store, v1 = seeded
    d = sample()
    other = sibling(d)
    old = grid_value(d, other, "worker")
    draft = store.create_version(with_worker(d, other, "新网格员", "13900000000"), actor="p")
    # a draft changes nobody's duty
    assert store.duties_at(DISTRICT)[other]["worker"].name == old
    v2 = store.publish(draft.id, actor="p")
    t2 = v2.published_at
    assert store.duties_at(DISTRICT, t2 - US)[other]["worker"].name == old
    assert store.duties_at(DISTRICT, t2)[other]["worker"].name == "新网格员"
    assert [h.name for h in store.duty_history(DISTRICT, other)] == [old, "新网格员"]
    assert [h.name for h in store.duty_history(DISTRICT, OWNER)] == [grid_value(d, OWNER, "worker")]
    # the old version, loaded as of before the publish, carries the old worker
    assert grid_value(store.load_district(v1.id, people_at=t2 - US), other, "worker") == old
    assert grid_value(store.load_district(v1.id), other, "worker") == "新网格员"


def test_duties_never_overlap_after_a_scheduled_change(seeded):
    store, v1 = seeded
    now = utcnow()
    store.assign(DISTRICT, OWNER, "worker", "下周来", actor="d", valid_from=now + timedelta(days=7))
    store.assign(DISTRICT, OWNER, "worker", "马上来", actor="d", valid_from=now)
    history = store.duty_history(DISTRICT, OWNER)
    for h in history:
        assert h.valid_to is None or h.valid_to > h.valid_from, h
    spans = sorted((h.valid_from, h.valid_to) for h in history)
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert end is not None and end <= start, history
    assert store.duties_at(DISTRICT, now + timedelta(hours=1))[OWNER]["worker"].name == "马上来"
