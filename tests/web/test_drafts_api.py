"""The planner's drafts through /api/v1/drafts on both backends: open a draft, read its grids,
report and workload, edit it (a split, a merge), a stale revision refused, a bad edit refused with
its reason, undo and redo, the impact preview, publish (the new grids answer the locator), a
stale draft refused then rebased, discard, rollback, and other roles refused."""

from __future__ import annotations

import math

import pytest
import shapely
from shapely.geometry import shape

from geogrid.errors import InputError
from geogrid.planning import Split
from geogrid.planning.geometry import shared_edge

#: Two neighbouring grids of 东阳社区.
OWNER, NEXT = "320113005007007", "320113005007006"


@pytest.fixture(params=["sqlite", "postgis"])
def drafts_site(request, make_site):
    return make_site(request.param)


def post(site, path, body=None, role="planner"):
    return site.client().post(path, json={} if body is None else body, headers=site.headers(role))


def get(site, path, role="planner"):
    return site.client().get(path, headers=site.headers(role))


def split_of(district, code: str) -> dict:
    """A straight line through the grid that splits it in two (the first angle that does)."""
    p = shapely.point_on_surface(district.grid2(code).geometry)
    for k in range(12):
        a = k * math.pi / 12
        dx, dy = 0.05 * math.cos(a), 0.05 * math.sin(a)
        edit = Split(code, [(p.x - dx, p.y - dy), (p.x + dx, p.y + dy)])
        try:
            edit.apply(district)
        except InputError:
            continue
        return edit.to_dict()
    raise AssertionError(f"no straight split of {code}")


def codes_of(fc: dict) -> set[str]:
    return {f["properties"]["code"] for f in fc["features"]}


def test_a_draft_edited_published_and_located(drafts_site):
    site = drafts_site
    opened = post(site, "/api/v1/drafts", {"name": "东阳社区调整"})
    assert opened.status_code == 201, opened.get_json()
    state = opened.get_json()
    draft_id = state["draft"]["id"]
    assert state["draft"]["revision"] == 0 and not state["stale"] and state["report"]["ok"]
    assert len(state["geojson"]["features"]) == 156 and not state["partial"]
    feature = next(f for f in state["geojson"]["features"] if f["properties"]["code"] == OWNER)
    assert shape(feature["geometry"]).is_valid
    rows = {r["code"]: r for r in state["workload"]["grids"]}
    assert rows[OWNER]["units"] > 0 and state["workload"]["balance"]["cv"] > 0
    listed = get(site, "/api/v1/drafts").get_json()["drafts"]
    assert [d["name"] for d in listed] == ["东阳社区调整"]

    # a split answers the two new grids only; the old code is retired
    district = site.service.current()[1].district
    edit = split_of(district, OWNER)
    split = post(site, f"/api/v1/drafts/{draft_id}/edits", {**edit, "revision": 0})
    assert split.status_code == 200, split.get_json()
    answer = split.get_json()
    new = set(answer["result"]["created"])
    assert len(new) == 2 and answer["result"]["retired"] == [OWNER]
    assert answer["state"]["partial"] and codes_of(answer["state"]["geojson"]) >= new
    assert answer["state"]["draft"]["revision"] == 1 and answer["check"]["ok"]
    assert {r["code"] for r in answer["state"]["workload"]["grids"]} >= new

    # the same edit on the old revision: a conflict; a bad edit: its reason
    stale = post(site, f"/api/v1/drafts/{draft_id}/edits", {**edit, "revision": 0})
    assert stale.status_code == 409 and "revision 0" in stale.get_json()["error"]["message"]
    bad = post(site, f"/api/v1/drafts/{draft_id}/edits", {"kind": "merge", "codes": [NEXT, "320113005001001"], "revision": 1})  # fmt: skip
    assert bad.status_code == 400
    assert "different communities" in bad.get_json()["error"]["message"]
    odd = post(site, f"/api/v1/drafts/{draft_id}/edits", {"kind": "split", "code": NEXT, "line": 5, "revision": 1})  # fmt: skip
    assert odd.status_code == 400 and "line" in odd.get_json()["error"]["message"]
    unknown = post(site, f"/api/v1/drafts/{draft_id}/edits", {"kind": "paint", "revision": 1})
    assert unknown.status_code == 400 and "unknown edit kind" in unknown.get_json()["error"]["message"]  # fmt: skip
    assert post(site, f"/api/v1/drafts/{draft_id}/edits", {"kind": "merge"}).status_code == 400

    # undo brings the old grid back (the whole draft answered), redo splits it again
    undone = post(site, f"/api/v1/drafts/{draft_id}/undo", {"revision": 1}).get_json()
    assert OWNER in codes_of(undone["state"]["geojson"]) and not undone["state"]["partial"]
    assert not new & codes_of(undone["state"]["geojson"])
    redone = post(site, f"/api/v1/drafts/{draft_id}/redo").get_json()
    assert new <= codes_of(redone["state"]["geojson"])
    revision = redone["state"]["draft"]["revision"]
    read = get(site, f"/api/v1/drafts/{draft_id}").get_json()
    assert read["draft"]["revision"] == revision and len(read["geojson"]["features"]) == 157

    # the impact: the old grid's units change grid, the area changes owner
    impact = get(site, f"/api/v1/drafts/{draft_id}/impact").get_json()
    assert {u["from_grid"] for u in impact["units"]} == {OWNER}
    assert {u["to_grid"] for u in impact["units"]} <= new
    assert {f["properties"]["from"] for f in impact["areas"]["features"]} == {OWNER}
    assert {g["code"]: g["status"] for g in impact["grids"]}[OWNER] == "retired"

    # publish needs a message; then the new grids answer the locator
    assert post(site, f"/api/v1/drafts/{draft_id}/publish", {"message": " "}).status_code == 400
    published = post(site, f"/api/v1/drafts/{draft_id}/publish", {"message": "拆分第七网格", "revision": revision})  # fmt: skip
    assert published.status_code == 200, published.get_json()
    body = published.get_json()
    assert body["version"]["number"] == 2 and body["units_moved"] == rows[OWNER]["units"]
    assert set(body["vacant"]) == new  # the new grids have no worker yet
    piece = next(f for f in redone["state"]["geojson"]["features"] if f["properties"]["code"] in new)  # fmt: skip
    p = shapely.point_on_surface(shape(piece["geometry"]))

    def located():
        r = get(site, f"/api/v1/locate?lon={p.x}&lat={p.y}", role="dispatcher").get_json()
        return r["grid2"]["code"] if r.get("grid2") else None

    assert site.wait_for(lambda: located() == piece["properties"]["code"])
    # a published draft can no longer change
    again = post(site, f"/api/v1/drafts/{draft_id}/undo")
    assert again.status_code == 409 and "published" in again.get_json()["error"]["message"]


def test_stale_draft_rebased_discard_and_rollback(drafts_site):
    site = drafts_site
    first = post(site, "/api/v1/drafts", {"name": "甲"}).get_json()["draft"]["id"]
    second = post(site, "/api/v1/drafts", {"name": "乙"}).get_json()["draft"]["id"]
    merge = {"kind": "merge", "codes": [OWNER, NEXT], "revision": 0}
    assert post(site, f"/api/v1/drafts/{first}/edits", merge).status_code == 200
    rename = {"kind": "rename", "code": "320113005001001", "name": "新名字", "revision": 0}
    assert post(site, f"/api/v1/drafts/{second}/edits", rename).status_code == 200
    assert post(site, f"/api/v1/drafts/{first}/publish", {"message": "合并"}).status_code == 200

    stale = post(site, f"/api/v1/drafts/{second}/publish", {"message": "改名"})
    assert stale.status_code == 409 and "rebase" in stale.get_json()["error"]["message"]
    assert get(site, f"/api/v1/drafts/{second}").get_json()["stale"]
    rebased = post(site, f"/api/v1/drafts/{second}/rebase").get_json()
    assert (rebased["from_version"], rebased["to_version"], rebased["kept"]) == (1, 2, 1)
    assert not rebased["state"]["stale"] and NEXT not in codes_of(rebased["state"]["geojson"])
    discarded = post(site, f"/api/v1/drafts/{second}/discard")
    assert discarded.status_code == 200 and discarded.get_json()["status"] == "discarded"
    assert get(site, "/api/v1/drafts").get_json()["drafts"] == []
    assert len(get(site, "/api/v1/drafts?status=all").get_json()["drafts"]) == 2

    assert post(site, "/api/v1/versions/2/rollback", {"message": "x"}).status_code == 400
    assert post(site, "/api/v1/versions/1/rollback", {}).status_code == 400
    back = post(site, "/api/v1/versions/1/rollback", {"message": "合并有误"})
    assert back.status_code == 200, back.get_json()
    assert (back.get_json()["restored"], back.get_json()["version"]["number"]) == (1, 3)
    assert post(site, "/api/v1/versions/99/rollback", {"message": "x"}).status_code == 404


def test_other_roles_are_refused_and_bad_input_answered(site):
    for role in ("dispatcher", "worker"):
        resp = post(site, "/api/v1/drafts", {"name": "试"}, role=role)
        assert resp.status_code == 403 and "may not" in resp.get_json()["error"]["message"]
        assert get(site, "/api/v1/drafts", role=role).status_code == 403
    assert get(site, "/api/v1/drafts/999999").status_code == 404
    assert get(site, f"/api/v1/drafts/{2**40}").status_code == 404
    assert get(site, "/api/v1/drafts?status=maybe").status_code == 400
    no_json = site.client().post(
        "/api/v1/drafts", data="nope", headers={**site.headers("planner"), "Content-Type": "text/plain"}
    )  # fmt: skip
    assert no_json.status_code == 400
    assert post(site, "/api/v1/drafts", {"name": "x", "colour": 1}).status_code == 400
    assert post(site, "/api/v1/drafts", {"name": ""}).status_code == 400


def _inner_run(district, a: str, b: str):
    """Two vertices a third and two thirds along the boundary grids ``a`` and ``b`` share."""
    edge = max(
        shapely.get_parts(shared_edge(district.grid2(a).geometry, district.grid2(b).geometry)),
        key=lambda e: e.length,
    )
    xy = [list(v) for v in shapely.get_coordinates(edge)]
    return xy[len(xy) // 3], xy[2 * len(xy) // 3]


def test_drag_edge_and_units_placed_by_hand(drafts_site):
    site = drafts_site
    draft_id = post(site, "/api/v1/drafts", {"name": "拖动边界"}).get_json()["draft"]["id"]
    district = site.service.current()[1].district
    start, end = _inner_run(district, OWNER, NEXT)
    url = f"/api/v1/drafts/{draft_id}/edits"
    base = {"kind": "drag_edge", "code": OWNER, "start": start, "end": end, "revision": 0}
    for bad, message in [
        ({"offset": "12"}, "offset must be a [dx, dy] pair"),
        ({"offset": [1e6, 0]}, "at most"),
        ({"offset": [5, 0], "end": start}, "the same vertex"),
        ({"offset": [5, 0], "start": [118.99, 32.149]}, "must be two vertices"),
        ({"offset": [5, 0], "neighbour": OWNER}, "another grid"),
        ({}, "needs offset"),
    ]:
        resp = post(site, url, {**base, **bad})
        assert resp.status_code == 400, (bad, resp.get_json())
        assert message in resp.get_json()["error"]["message"], (bad, resp.get_json())
    assert get(site, f"/api/v1/drafts/{draft_id}").get_json()["draft"]["revision"] == 0

    before = {r["code"]: r["area_km2"] for r in get(site, f"/api/v1/drafts/{draft_id}").get_json()["workload"]["grids"]}  # fmt: skip
    ok = post(site, url, {**base, "offset": [6.0, 4.0]})
    assert ok.status_code == 200, ok.get_json()
    answer = ok.get_json()
    assert {OWNER, NEXT} <= set(answer["result"]["touched"]) and answer["check"]["ok"]
    after = {r["code"]: r["area_km2"] for r in answer["state"]["workload"]["grids"]}
    gained, lost = after[OWNER] - before[OWNER], after[NEXT] - before[NEXT]
    assert abs(gained) > 1e-6 and gained == pytest.approx(-lost, abs=1e-6)
    assert get(site, f"/api/v1/drafts/{draft_id}").get_json()["report"]["ok"]

    # a unit moved by hand is listed with its override, in its new grid
    unit = district.units[district.units["grid"] == OWNER]["code"].iloc[0]
    moved = post(site, url, {"kind": "move_unit", "unit": unit, "grid": NEXT, "reason": "物业在隔壁", "revision": 1})  # fmt: skip
    assert moved.status_code == 200, moved.get_json()
    state = get(site, f"/api/v1/drafts/{draft_id}").get_json()
    assert [(o["code"], o["grid"], o["reason"]) for o in state["overrides"]] == [
        (unit, NEXT, "物业在隔壁")
    ]
    spec = site.client().get("/api/v1/openapi.json").get_json()
    assert "drag_edge" in spec["components"]["schemas"]["DraftEdit"]["properties"]["kind"]["enum"]
