"""The early-warning API and page on both backends: the list as each role may see it, the
acknowledgement with and without a note, 403s, 404 and 409, a grid worker's scope, the map's
display CRS, the nav badge, and the page with its acknowledge form."""

from __future__ import annotations

import re

import pytest
from web_support import WORKER_GRID

from geogrid.access import SYSTEM
from geogrid.usecases import incidents as uc

OTHER_GRID = "320113005001001"


def _point_in(site, code):
    _, loc = site.service.current()
    g = loc.district.grids2
    geom = g[g["code"] == code].geometry.iloc[0].representative_point()
    return geom.x, geom.y


@pytest.fixture
def wsite(request, make_site):
    """A site of its own with a repeat in the worker's grid (3 × 0601) and a cluster of five
    reports of other categories in another grid."""
    site = make_site(request.param)
    svc = site.service
    for _ in range(3):
        uc.report(svc, SYSTEM, 118.93, 32.11, category="0601", description="井盖缺失")
    x, y = _point_in(site, OTHER_GRID)
    for k, cat in enumerate(("0101", "0102", "0103", "0104", "0105")):
        uc.report(svc, SYSTEM, x + 0.0002 * k, y, category=cat, description="占道")
    return site


both = pytest.mark.parametrize("wsite", ["sqlite", "postgis"], indirect=True)


def get(site, role, query=""):
    resp = site.client().get(f"/api/v1/warnings{query}", headers=site.headers(role))
    return resp.status_code, resp.get_json()


def ack(site, role, key, body):
    resp = site.client().post(
        f"/api/v1/warnings/{key}/acknowledge", json=body, headers=site.headers(role)
    )
    return resp.status_code, resp.get_json()


@both
def test_the_list_by_role_and_scope(wsite):
    status, body = get(wsite, "dispatcher")
    assert status == 200
    rules = sorted(w["rule"] for w in body["warnings"])
    assert "repeat" in rules and "cluster" in rules
    repeat = next(w for w in body["warnings"] if w["rule"] == "repeat")
    assert repeat["grid_code"] == WORKER_GRID and repeat["category"] == "0601"
    assert len(repeat["incidents"]) == 3 and repeat["explanation"]["zh"].startswith("网格")
    assert body["total"] == len(body["warnings"])
    # planners read them too; a grid worker only those touching their grid
    assert get(wsite, "planner", "?rule=repeat")[1]["total"] == 1
    mine = get(wsite, "worker")[1]["warnings"]
    assert mine and all(WORKER_GRID in w["grid_codes"] for w in mine)
    assert not any(w["rule"] == "cluster" for w in mine)
    status, body = get(wsite, "office")
    assert status == 403 and "may not read the early warnings" in body["error"]["message"]
    assert get(wsite, "dispatcher", "?rule=bogus")[0] == 400
    assert get(wsite, "dispatcher", "?view=bogus")[0] == 400


@both
def test_acknowledge_with_and_without_a_note(wsite):
    key = next(w["key"] for w in get(wsite, "dispatcher")[1]["warnings"] if w["rule"] == "repeat")
    status, body = ack(wsite, "dispatcher", key, {})
    assert status == 400 and "note" in body["error"]["message"]
    assert ack(wsite, "dispatcher", key, {"note": "   "})[0] == 400
    assert ack(wsite, "dispatcher", key, {"note": 5})[0] == 400
    assert ack(wsite, "dispatcher", key, {"note": "x", "extra": 1})[0] == 400
    for role in ("planner", "worker", "office"):
        status, body = ack(wsite, role, key, {"note": "看过"})
        assert status == 403 and "may not acknowledge" in body["error"]["message"], role
    assert ack(wsite, "dispatcher", "repeat:nothing:here", {"note": "看过"})[0] == 404
    status, body = ack(wsite, "dispatcher", key, {"note": "已安排网格员排查"})
    assert status == 200 and body["acknowledged"]["by"] == "dispatcher"
    assert body["acknowledged"]["note"] == "已安排网格员排查"
    status, body = ack(wsite, "admin", key, {"note": "再确认"})
    assert status == 409 and "acknowledged by dispatcher" in body["error"]["message"]
    active = [w["key"] for w in get(wsite, "dispatcher")[1]["warnings"]]
    assert key not in active
    done = get(wsite, "dispatcher", "?view=acknowledged")[1]["warnings"]
    assert [w["key"] for w in done] == [key]
    assert get(wsite, "worker", "?view=acknowledged")[1]["warnings"][0]["key"] == key
    # a fourth incident of the same category in that grid: the warning is back
    uc.report(wsite.service, SYSTEM, 118.93, 32.11, category="0601")
    back = next(w for w in get(wsite, "dispatcher")[1]["warnings"] if w["key"] == key)
    assert len(back["incidents"]) == 4 and back["acknowledged"] is None


@both
def test_display_crs_for_the_map(wsite):
    wgs = {w["key"]: w for w in get(wsite, "dispatcher")[1]["warnings"]}
    gcj = {w["key"]: w for w in get(wsite, "dispatcher", "?crs=gcj02")[1]["warnings"]}
    key = next(k for k, w in wgs.items() if w["rule"] == "repeat")
    # the GCJ-02 offset around Xianlin: about 475 m east, 247 m south
    assert 0.004 < gcj[key]["lon"] - wgs[key]["lon"] < 0.006
    assert -0.003 < gcj[key]["lat"] - wgs[key]["lat"] < -0.0015


@pytest.mark.parametrize("wsite", ["sqlite"], indirect=True)
def test_the_page_badge_and_form(wsite, login, csrf_token):
    client = login(wsite.client(), "dispatcher")
    page = client.get("/warnings").get_data(as_text=True)
    n = len(get(wsite, "dispatcher")[1]["warnings"])
    assert '<span class="nav-count"' in page and f">{n}</span>" in page
    assert "同类事件" in page or "Repeated" in page
    key = next(w["key"] for w in get(wsite, "dispatcher")[1]["warnings"] if w["rule"] == "repeat")
    assert f'data-key="{key}"' in page and 'name="note"' in page
    assert re.search(r'href="/incidents/\d+"', page)
    token = csrf_token(client, "/warnings")
    empty = client.post(f"/warnings/{key}/acknowledge", data={"csrf_token": token, "note": ""})
    assert empty.status_code == 302
    assert "a note" in client.get("/warnings").get_data(as_text=True)
    done = client.post(
        f"/warnings/{key}/acknowledge?view=active",
        data={"csrf_token": token, "note": "已约谈商户"},
        follow_redirects=True,
    )
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and f'data-key="{key}"' not in text
    acked = client.get("/warnings?view=acknowledged").get_data(as_text=True)
    assert f'data-key="{key}"' in acked and "已约谈商户" in acked
    # a planner reads the page without the form; an office user gets 403
    planner = login(wsite.client(), "planner")
    assert 'name="note"' not in planner.get("/warnings").get_data(as_text=True)
    office = login(wsite.client(), "office")
    assert office.get("/warnings").status_code == 403
    assert "nav-warnings" not in office.get("/").get_data(as_text=True)


def test_a_bad_setting_stops_the_app_at_start_up(monkeypatch):
    from geogrid.errors import InputError
    from web import create_app

    monkeypatch.setenv("GEOGRID_WARN_SURGE_WEEKS", "0")
    with pytest.raises(InputError, match="GEOGRID_WARN_SURGE_WEEKS must be a number from 1"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})
