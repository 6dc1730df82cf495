"""Boundary versions on both backends: drafts, publishing, immutability, "as of" lookups,
conflicting publishes and validation before anything is stored."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import shapely
import sqlalchemy as sa
from geogrid_db_support import (
    DISTRICT,
    OWNER,
    POINT,
    copy_district,
    counts,
    sample,
    sibling,
    snapshot,
    swap_grids,
    table_rows,
    with_worker,
)

from geogrid.db import Store
from geogrid.db import schema as t
from geogrid.db.types import utcnow
from geogrid.errors import Conflict, InputError, NotFound, ValidationFailed
from geogrid.service import Service

US = timedelta(microseconds=1)


def wkb_by_code(frame) -> dict[str, bytes]:
    return dict(zip(frame["code"], shapely.to_wkb(frame.geometry.values), strict=True))


def test_draft_then_publish_makes_current(store):
    d = sample()
    assert store.districts() == []
    before = utcnow()
    draft = store.create_version(d, actor="planner", note="首次导入")
    assert (draft.number, draft.status, draft.current, draft.base_id) == (1, "draft", False, None)
    assert (draft.grid_count, draft.unit_count) == (156, 1786)
    assert draft.created_by == "planner" and draft.note == "首次导入"
    assert before <= draft.created_at <= utcnow()
    assert draft.published_at is None and draft.published_by is None
    # a draft is not current: there is nothing to serve yet
    assert store.current_version(DISTRICT) is None
    assert store.state(DISTRICT) == (None, 0)
    assert store.version_at(DISTRICT, utcnow()) is None
    assert store.districts() == [{"code": DISTRICT, "name": "仙林街道", "current_version_id": None}]
    with pytest.raises(NotFound):
        Service(store).locate(*POINT)

    v1 = store.publish(draft.id, actor="chief")
    assert (v1.id, v1.number, v1.status, v1.current) == (draft.id, 1, "published", True)
    assert v1.published_by == "chief" and draft.created_at <= v1.published_at <= utcnow()
    assert store.current_version(DISTRICT) == v1
    assert store.state(DISTRICT) == (v1.id, 1)
    assert [v.id for v in store.versions(DISTRICT)] == [v1.id]
    assert store.version_by_number(DISTRICT, 1) == v1

    with pytest.raises(NotFound):
        store.publish(v1.id + 1000, actor="chief")
    with pytest.raises(NotFound):
        store.version(v1.id + 1000)
    with pytest.raises(NotFound):
        store.version_by_number(DISTRICT, 2)


def test_published_versions_are_immutable_and_stay_readable(seeded):
    store, v1 = seeded
    d1 = sample()
    stored_v1 = table_rows(store, t.grids), table_rows(store, t.units)
    d2 = with_worker(swap_grids(d1), sibling(d1), "新网格员", "13900000000")
    draft = store.create_version(d2, actor="planner")
    assert (draft.number, draft.base_id, draft.status) == (2, v1.id, "draft")
    # the draft changes nothing that is served
    assert store.current_version(DISTRICT) == v1
    v2 = store.publish(draft.id, actor="chief")
    assert v2.current and v2.number == 2

    # publishing again, either version, is refused and changes nothing
    state = store.state(DISTRICT)
    before = snapshot(store)
    for vid in (v1.id, v2.id):
        with pytest.raises(Conflict, match="already published"):
            store.publish(vid, actor="chief")
        with pytest.raises(Conflict, match="already published"):
            store.publish(vid, actor="chief", force=True)
    assert store.state(DISTRICT) == state
    assert snapshot(store) == before

    versions = store.versions(DISTRICT)
    assert [(v.number, v.status, v.current) for v in versions] == [
        (2, "published", True),
        (1, "published", False),
    ]
    # version 1 is still there, row for row, and loads with its own geometry
    grids_now, units_now = table_rows(store, t.grids), table_rows(store, t.units)
    assert [r for r in grids_now if r[1] == v1.id] == stored_v1[0]
    assert [r for r in units_now if r[1] == v1.id] == stored_v1[1]
    old, new = store.load_district(v1.id), store.load_district(v2.id)
    assert wkb_by_code(old.grids2) == wkb_by_code(d1.grids2)
    assert wkb_by_code(new.grids2) == wkb_by_code(d2.grids2)
    assert wkb_by_code(old.grids2) != wkb_by_code(new.grids2)
    assert shapely.to_wkb(old.outline) == shapely.to_wkb(d1.outline)


def test_version_at_before_between_and_after_publishes(seeded):
    store, v1 = seeded
    d2 = swap_grids(sample())
    v2 = store.publish(store.create_version(d2, actor="p").id, actor="p")
    t1, t2 = v1.published_at, v2.published_at
    assert t1 < t2
    assert store.version_at(DISTRICT, t1 - US) is None
    assert store.version_at(DISTRICT, t1) == store.version(v1.id)
    assert store.version_at(DISTRICT, t2 - US).id == v1.id
    assert store.version_at(DISTRICT, t2).id == v2.id
    assert store.version_at(DISTRICT, utcnow() + timedelta(days=365)).id == v2.id
    # a draft made later does not count
    store.create_version(sample(), actor="p")
    assert store.version_at(DISTRICT, utcnow()).id == v2.id
    assert store.version_at("320113999", utcnow()) is None


def test_two_drafts_from_one_base_exactly_one_wins(seeded):
    store, v1 = seeded
    d = sample()
    a = store.create_version(with_worker(d, OWNER, "甲", None), actor="alice")
    b = store.create_version(swap_grids(d), actor="bob")
    assert a.base_id == b.base_id == v1.id
    won = store.publish(a.id, actor="alice")
    before = snapshot(store)
    with pytest.raises(Conflict) as exc:
        store.publish(b.id, actor="bob")
    msg = str(exc.value)
    assert f"version {won.number} was published" in msg
    assert f"draft {b.number}" in msg and "version 1" in msg
    assert snapshot(store) == before
    assert store.version(b.id).status == "draft"
    assert store.current_version(DISTRICT).id == a.id

    # force overwrites: b becomes current, a stays readable
    forced = store.publish(b.id, actor="bob", force=True)
    assert forced.current and forced.status == "published"
    assert store.current_version(DISTRICT).id == b.id
    assert store.version(a.id).status == "published" and not store.version(a.id).current
    assert store.state(DISTRICT) == (b.id, 3)
    assert store.version_at(DISTRICT, forced.published_at).id == b.id
    assert store.version_at(DISTRICT, forced.published_at - US).id == a.id
    assert wkb_by_code(store.load_district(b.id).grids2) == wkb_by_code(swap_grids(d).grids2)


def test_first_publish_conflicts_with_another_first_draft(store):
    """Two drafts made on an empty district: the second publish says what was published."""
    d = sample()
    a = store.create_version(d, actor="alice")
    b = store.create_version(d, actor="bob")
    assert a.base_id is None and b.base_id is None
    store.publish(b.id, actor="bob")
    with pytest.raises(Conflict, match="version 2 was published after draft 1"):
        store.publish(a.id, actor="alice")
    assert store.current_version(DISTRICT).id == b.id


def _race(store, url, a_id, b_id):
    """Publish ``a`` and ``b`` from two Store objects at the same time; on PostgreSQL b reads the
    current version, then waits until a has committed (the window a stale read leaves)."""
    other = Store(url)
    a_done, b_read = threading.Event(), threading.Event()
    results = {}

    if other.dialect == "postgresql":

        def hook(conn, cursor, statement, params, context, executemany):
            stale_read = statement.startswith("SELECT district_state.current_version_id \n")
            if stale_read and not b_read.is_set():
                b_read.set()
                a_done.wait(10)

        sa.event.listen(other.engine, "after_cursor_execute", hook)
    else:  # SQLite writers queue on BEGIN IMMEDIATE: b starts once a is under way
        b_read.set()

    def run(name, s, vid):
        try:
            results[name] = s.publish(vid, actor=name)
        except Exception as exc:  # reported below
            results[name] = exc
        finally:
            if name == "a":
                a_done.set()

    tb = threading.Thread(target=run, args=("b", other, b_id))
    tb.start()
    assert b_read.wait(10)
    run("a", store, a_id)
    tb.join(30)
    other.dispose()
    return results


def test_concurrent_publishes_exactly_one_wins(seeded, db_url, request):
    store, v1 = seeded
    d = sample()
    a = store.create_version(with_worker(d, OWNER, "甲", None), actor="a")
    b = store.create_version(swap_grids(d), actor="b")
    results = _race(store, db_url, a.id, b.id)
    wins = {k: v for k, v in results.items() if not isinstance(v, Exception)}
    losses = {k: v for k, v in results.items() if isinstance(v, Exception)}
    assert len(wins) == 1 and len(losses) == 1, results
    [(winner, info)] = wins.items()
    [(loser, exc)] = losses.items()
    assert isinstance(exc, Conflict), repr(exc)
    current = store.current_version(DISTRICT)
    assert current.id == info.id
    assert store.state(DISTRICT) == (info.id, 2)
    lost_id = b.id if winner == "a" else a.id
    assert store.version(lost_id).status == "draft"
    assert len(table_rows(store, t.activations)) == 2
    publishes = [r for r in store.audit_log(entity="version") if r["action"] == "publish"]
    assert [r["entity_key"] for r in publishes] == [str(info.id), str(v1.id)]
    assert f"version {info.number} was published" in str(exc), str(exc)


@pytest.mark.parametrize("damage", ["gap", "duplicate-code"])
def test_invalid_district_is_not_stored(seeded, damage):
    store, v1 = seeded
    d = sample()
    if damage == "gap":  # a second-level grid removed: its area is in no grid
        victim = sibling(d)
        d.grids2 = d.grids2[d.grids2["code"] != victim].reset_index(drop=True)
        d.units = d.units[d.units["grid"] != victim].reset_index(drop=True)
    else:  # two second-level grids with one code
        d.grids2.loc[1, "code"] = d.grids2.loc[0, "code"]
        d.units.loc[d.units["grid"] == d.grids2.loc[1, "code"], "grid"] = d.grids2.loc[0, "code"]
    before = snapshot(store)
    with pytest.raises(ValidationFailed) as exc:
        store.create_version(d, actor="planner")
    assert damage in {f.check for f in exc.value.report.errors}
    assert snapshot(store) == before
    assert store.state(DISTRICT) == (v1.id, 1)


def test_invalid_first_district_leaves_the_database_empty(store):
    d = sample()
    d.grids2 = d.grids2.iloc[1:].reset_index(drop=True)
    empty = counts(store)
    assert {k for k, n in empty.items() if n} == {"incident_categories"}  # seeded with the schema
    with pytest.raises(ValidationFailed):
        store.create_version(d, actor="planner")
    assert counts(store) == empty
    nameless = copy_district(sample())
    nameless.code = ""
    with pytest.raises(InputError):
        store.create_version(nameless, actor="planner")
    assert counts(store) == empty


def test_naive_times_are_refused_as_input_errors(store):
    naive = datetime(2026, 1, 1, 8, 0)
    with pytest.raises(InputError):
        store.version_at(DISTRICT, naive)
    with pytest.raises(InputError):
        store.duties_at(DISTRICT, naive)
