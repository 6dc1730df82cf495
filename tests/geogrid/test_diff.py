"""The diff between two boundary versions (``usecases.boundaries.diff``) and ``geogrid diff``:
a hand-checked draft merges two grids, renames a third and moves a unit; the diff lists exactly
those changes, both ways, on both backends."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from geogrid.access import SYSTEM, Actor
from geogrid.cli import main
from geogrid.db import Store
from geogrid.errors import Forbidden, NotFound
from geogrid.planning import geometry as geo
from geogrid.service import Service
from geogrid.usecases import boundaries, planning

KEEP, GONE, RENAMED, OTHER = (f"320113005001{n:03d}" for n in (1, 2, 3, 4))
NEW_NAME = "仙鹤社区改名网格"


def publish_merge(svc) -> dict:
    """Version 2: KEEP and GONE merged, RENAMED renamed, a unit of OTHER moved to RENAMED."""
    state = planning.open_draft(svc, SYSTEM, "合并试点")
    base = state.district
    units = base.units
    unit = str(units.loc[units["grid"] == OTHER, "code"].iloc[0])
    edits = [
        {"kind": "merge", "codes": [KEEP, GONE]},
        {"kind": "rename", "code": RENAMED, "name": NEW_NAME},
        {"kind": "move_unit", "unit": unit, "grid": RENAMED, "reason": "就近管理"},
    ]
    for rev, e in enumerate(edits):
        planning.edit(svc, SYSTEM, state.draft.id, e, rev)
    planning.publish(svc, Actor("guihua", "planner"), state.draft.id, "合并第一、二网格")
    gone_units = sorted(units.loc[units["grid"] == GONE, "code"])
    return {
        "unit": unit,
        "gone_area": geo.area_m2(base.grid2(GONE).geometry),
        "gone_units": gone_units,
        "workers": {c: base.grid2(c)["worker"] for c in (KEEP, GONE, RENAMED, OTHER)},
    }


@pytest.fixture
def merged(db_url):
    svc = Service.bootstrap(Store(db_url))
    facts = publish_merge(svc)
    yield svc, facts
    svc.store.dispose()


def test_a_merge_rename_and_moved_unit_hand_checked(merged):
    svc, facts = merged
    d = boundaries.diff(svc, Actor("wangge", "worker", frozenset({OTHER})), 1, 2)
    assert d["from"]["number"] == 1 and d["to"]["number"] == 2
    assert d["to"]["note"] == "合并第一、二网格" and d["to"]["published_by"] == "guihua"
    assert d["to"]["draft"]["name"] == "合并试点" and d["to"]["rollback_of"] is None
    assert [(g["code"], g["status"]) for g in d["grids"]] == [(KEEP, "changed"), (GONE, "retired")]
    grids = {g["code"]: g for g in d["grids"]}
    assert grids[KEEP]["area_change_m2"] == pytest.approx(facts["gone_area"], abs=0.01)
    assert [(t["from"], t["to"]) for t in d["transfers"]] == [(GONE, KEEP)]
    assert d["transfers"][0]["area_m2"] == pytest.approx(facts["gone_area"], abs=0.01)
    assert d["summary"]["area_m2"] == pytest.approx(facts["gone_area"], abs=0.01)
    assert [(a["code"], a["changes"]) for a in d["attributes"]] == [
        (RENAMED, {"name": [f"仙鹤社区第{RENAMED[-2:]}网格", NEW_NAME]})
    ]
    assert d["communities"] == [] and d["recoded"] == []
    w = facts["workers"]
    units = {u["code"]: u for u in d["units"]}
    assert set(units) == {facts["unit"], *facts["gone_units"]}
    moved = units[facts["unit"]]
    assert (moved["from_grid"], moved["to_grid"]) == (OTHER, RENAMED)
    assert (moved["from_worker"], moved["to_worker"]) == (w[OTHER], w[RENAMED])
    for code in facts["gone_units"]:  # the retired grid's worker, as on duty in version 1
        assert (units[code]["from_worker"], units[code]["to_worker"]) == (w[GONE], w[KEEP])

    back = boundaries.diff(svc, SYSTEM, 2, 1)
    assert [(g["code"], g["status"]) for g in back["grids"]] == [
        (KEEP, "changed"),
        (GONE, "created"),
    ]
    assert [(t["from"], t["to"]) for t in back["transfers"]] == [(KEEP, GONE)]
    assert back["transfers"][0]["area_m2"] == pytest.approx(facts["gone_area"], abs=0.01)
    assert back["attributes"][0]["changes"] == {"name": [NEW_NAME, f"仙鹤社区第{RENAMED[-2:]}网格"]}
    assert back["units"][0]["code"] == min(units) and len(back["units"]) == len(units)


def test_a_version_against_itself_is_empty_and_unknown_versions_are_not_found(merged):
    svc, _ = merged
    same = boundaries.diff(svc, SYSTEM, 2, 2)
    for key in ("grids", "transfers", "units", "attributes", "communities", "recoded"):
        assert same[key] == [], key
    assert same["summary"]["area_m2"] == 0
    with pytest.raises(NotFound):
        boundaries.diff(svc, SYSTEM, 1, 9)
    with pytest.raises(Forbidden):
        boundaries.diff(svc, Actor("x", "nobody"), 1, 2)


def test_a_rollback_shows_in_the_history(merged):
    svc, _ = merged
    planning.rollback(svc, SYSTEM, 1, "合并有误")
    rows = boundaries.history(svc, SYSTEM)
    assert [(r["number"], r["current"], r["rollback_of"]) for r in rows] == [
        (3, True, 1), (2, False, None), (1, False, None)
    ]  # fmt: skip
    assert rows[0]["note"] == "合并有误" and rows[0]["published_by"] == "system"
    assert rows[1]["draft"]["name"] == "合并试点"
    d = boundaries.diff(svc, SYSTEM, 1, 3)  # the same boundaries again
    assert d["grids"] == [] and d["transfers"] == [] and d["to"]["rollback_of"] == 1
    with pytest.raises(Forbidden):
        boundaries.history(svc, Actor("wangge", "worker", frozenset({OTHER})))


def run(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def test_the_diff_command(merged, db_url):
    out = run("diff", 1, 2, "--db", db_url).output
    assert f"{GONE}  retired" in out and f"{GONE} → {KEEP}" in out
    assert NEW_NAME in out and "Communities changed:\n  no change" in out
    data = json.loads(run("diff", 2, 1, "--json", "--db", db_url).output)
    assert data["summary"]["created"] == 1 and data["from"]["number"] == 2
    assert "no version 7" in run("diff", 1, 7, "--db", db_url, code=2).output
