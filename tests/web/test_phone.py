"""The grid worker's phone page (/m/): who gets it, its manifest, icons and service worker, the
task list it reads (only the worker's grid) and the distances in that list (GCJ-02 or WGS-84
positions, converted exactly by the core)."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from PIL import Image
from web_support import ROLES, WORKER_GRID

from geogrid import crs as _crs
from geogrid.access import Actor
from geogrid.crs.metric import distance_m
from geogrid.db import schema as t
from geogrid.db.types import utcnow
from geogrid.incidents.query import IncidentQuery
from geogrid.usecases import incidents as U
from geogrid.usecases.locating import Point

DISP = Actor("disp", "dispatcher")
HERE = (118.93, 32.11)  # in the worker's grid
ELSEWHERE = (118.9170, 32.1000)  # in another grid
#: Where the phone is (WGS-84), a few hundred metres from HERE
PHONE = (118.9335, 32.1088)
CONFIG = re.compile(r'<script type="application/json" id="phone-config">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def psite(make_site):
    """A site with three incidents in the worker's grid (one dispatched, one handling and overdue,
    one resolved with its return visit due) and two in another grid."""
    site = make_site()
    svc = site.service
    mine = [
        U.report(svc, DISP, *HERE, category="0601", description="井盖缺失", dispatch=True,
                 reporter="王女士", reporter_contact="139 0000 1111"),
        U.report(svc, DISP, HERE[0] + 0.001, HERE[1], category="0202", description="占道摆摊", dispatch=True),
        U.report(svc, DISP, HERE[0], HERE[1] + 0.001, category="0202", description="垃圾堆放", dispatch=True),
    ]  # fmt: skip
    worker = Actor("worker", "worker", frozenset({WORKER_GRID}))
    U.act(svc, worker, mine[1].id, "accept")
    U.act(svc, worker, mine[2].id, "resolve", note="已清理")
    others = [
        U.report(svc, DISP, *ELSEWHERE, category="0202", description="别处", dispatch=True)
        for _ in range(2)
    ]
    with site.store.engine.begin() as conn:
        conn.execute(
            t.incidents.update()
            .where(t.incidents.c.id == mine[1].id)
            .values(due_at=utcnow() - timedelta(hours=3))
        )
        conn.execute(
            t.incidents.update()
            .where(t.incidents.c.id == mine[2].id)
            .values(revisit_due_at=utcnow() + timedelta(hours=2))
        )
    site.mine = [i.id for i in mine]
    site.others = [i.id for i in others]
    return site


def _config(html: str) -> dict:
    m = CONFIG.search(html)
    assert m, "no phone-config in the page"
    return json.loads(m.group(1))


def test_the_worker_gets_the_page_with_their_grid(psite, login):
    client = login(psite.client(), "worker")
    assert client.get("/m").status_code == 308  # the page lives at /m/ (the worker's scope)
    resp = client.get("/m/")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert '<link rel="manifest" href="/m/manifest.webmanifest">' in html
    assert "我的任务" in html and WORKER_GRID in html  # Chinese by default
    cfg = _config(html)
    assert cfg["grid"]["code"] == WORKER_GRID and cfg["grid"]["name"]
    assert cfg["grid"]["outline"]["type"] in ("Polygon", "MultiPolygon")
    assert cfg["urls"]["incidents"] == "/api/v1/incidents"
    assert cfg["urls"]["events"] == "/api/v1/events"
    assert cfg["geo_crs"] == "wgs84"
    assert cfg["strings"]["tabs"]["new"] == "新任务"
    assert cfg["strings"]["actions"]["accept"] == "签收"
    # an AMap-based shell says its positions are GCJ-02; anything else is taken as the browser's
    assert _config(client.get("/m/?geo=gcj02").get_data(as_text=True))["geo_crs"] == "gcj02"
    assert _config(client.get("/m/?geo=bd09x").get_data(as_text=True))["geo_crs"] == "wgs84"
    # the other pages link to it for a worker
    assert 'href="/m/"' in client.get("/incidents").get_data(as_text=True)


def test_english_page(psite, login):
    client = login(psite.client(), "worker")
    client.set_cookie("lang", "en")
    html = client.get("/m/").get_data(as_text=True)
    assert "My tasks" in html
    assert _config(html)["strings"]["tabs"]["new"] == "New"


@pytest.mark.parametrize("role", [r for r in ROLES if r != "worker"])
def test_other_roles_go_to_the_map_with_a_message(psite, login, role):
    client = login(psite.client(), role)
    resp = client.get("/m/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert "手机页面供网格员使用" in html
    assert 'href="/m/"' not in html


def test_anonymous_visitors_log_in_first(psite):
    client = psite.client()
    for path in ("/m/", "/m/state"):
        resp = client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=/m/")


def test_state_gives_a_fresh_csrf_token_that_works(psite, login):
    client = login(psite.client(), "worker")
    state = client.get("/m/state").get_json()
    assert state["user"] == "worker" and state["grid_code"] == WORKER_GRID
    iid = psite.mine[0]
    resp = client.post(
        f"/api/v1/incidents/{iid}/photos",
        headers={"X-CSRFToken": state["csrf_token"]},
        data={"photos": [(io.BytesIO(_jpeg()), "a.jpg")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 30)).save(buf, "JPEG")
    return buf.getvalue()


def test_manifest(psite):
    resp = psite.client().get("/m/manifest.webmanifest")  # no login: browsers send no cookies
    assert resp.status_code == 200 and resp.mimetype == "application/manifest+json"
    m = resp.get_json()
    assert m["name"] == "网格员任务" and m["short_name"] == "网格任务"
    assert m["start_url"] == "/m/" and m["scope"] == "/m/"
    assert m["display"] == "standalone" and m["theme_color"] == "#0f2742"
    sizes = {(i["sizes"], i["purpose"]) for i in m["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    client = psite.client()
    for icon in m["icons"]:
        got = client.get(icon["src"])
        data = got.data
        got.close()
        assert got.status_code == 200 and got.mimetype == "image/png"
        img = Image.open(io.BytesIO(data))
        assert f"{img.width}x{img.height}" == icon["sizes"] and img.format == "PNG"
        if icon["purpose"] == "maskable":  # full bleed: no transparent corner
            assert img.convert("RGBA").getpixel((0, 0))[3] == 255
        else:
            assert img.convert("RGBA").getpixel((0, 0))[3] == 0


def test_service_worker(psite):
    resp = psite.client().get("/m/sw.js")
    assert resp.status_code == 200 and resp.mimetype == "text/javascript"
    assert resp.headers["Service-Worker-Allowed"] == "/m/"
    assert resp.headers["Cache-Control"] == "no-cache"  # a new release is picked up at once
    body = resp.get_data(as_text=True)
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", body).group(1))
    assert shell[0] == "/m/"
    assert {"/static/phone.js", "/static/phone.css", "/vendor/leaflet/leaflet.js"} <= set(shell)
    client = psite.client()
    for url in shell[1:]:  # every file it keeps exists (and needs no login)
        got = client.get(url)
        got.close()
        assert got.status_code == 200, url
    assert re.search(r'const VERSION = "[0-9a-f]{16}";', body)


# ---------------------------------------------------------------------- the task list
def _list(client, query=""):
    resp = client.get(
        f"/api/v1/incidents?state=dispatched,handling,escalated,resolved&limit=200{query}"
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return resp.get_json()["incidents"]


def test_the_worker_reads_only_their_grid(psite, login):
    client = login(psite.client(), "worker")
    rows = _list(client)
    assert sorted(r["id"] for r in rows) == sorted(psite.mine)
    assert {r["grid_code"] for r in rows} == {WORKER_GRID}
    by_id = {r["id"]: r for r in rows}
    new, over, back = (by_id[i] for i in psite.mine)
    # what the page's tabs and buttons are made of
    assert new["state"] == "dispatched" and new["actions"][:3] == ["accept", "escalate", "resolve"]
    assert new["reporter_contact"] == "139 0000 1111"  # a worker calls the reporter back
    assert over["state"] == "handling" and over["overdue"] is True
    assert (
        back["state"] == "resolved" and back["revisit_due"] is True and "revisit" in back["actions"]
    )
    for other in psite.others:  # another grid's incident: refused, not just left out
        assert client.get(f"/api/v1/incidents/{other}").status_code == 403
        assert client.post(
            f"/api/v1/incidents/{other}/actions", json={"action": "accept"},
            headers={"X-CSRFToken": client.get("/m/state").get_json()["csrf_token"]},
        ).status_code == 403  # fmt: skip
    # the dispatcher, on the same list, sees both grids
    disp = login(psite.client(), "dispatcher")
    assert set(psite.mine + psite.others) <= {r["id"] for r in _list(disp)}


def test_distances_from_a_wgs84_or_gcj02_position(psite, login):
    client = login(psite.client(), "worker")
    wgs = _list(client, f"&near={PHONE[0]},{PHONE[1]}&crs=wgs84")
    assert all(isinstance(r["distance_m"], float) for r in wgs)
    for r in wgs:  # the core measures in EPSG:4549 from the incident's WGS-84 place
        assert r["distance_m"] == pytest.approx(distance_m(r["lon"], r["lat"], *PHONE), abs=0.06)
    # an AMap-based shell reports the same place in GCJ-02, about 535 m off: the same distances
    glon, glat = _crs.wgs84_to_gcj02(*PHONE)
    assert 500 < distance_m(*PHONE, glon, glat) < 570
    gcj = _list(client, f"&near={glon:.9f},{glat:.9f}&crs=gcj02")
    assert [(r["id"], r["distance_m"]) for r in gcj] == [(r["id"], r["distance_m"]) for r in wgs]
    # ... which taking the GCJ-02 figures for WGS-84 would get wrong by hundreds of metres
    wrong = {r["id"]: r["distance_m"] for r in _list(client, f"&near={glon},{glat}")}
    assert all(abs(wrong[r["id"]] - r["distance_m"]) > 150 for r in wgs)
    # without near, no distance; a bad near is a 400 naming it
    assert all("distance_m" not in r for r in _list(client))
    for bad in ("118.93", "a,b", "118.93,32.11,5"):
        resp = client.get(f"/api/v1/incidents?near={bad}")
        assert resp.status_code == 400 and "near" in resp.get_json()["error"]["message"]


def test_distances_in_the_core(psite):
    """The same figures from the use case (the API only parses the place)."""
    svc = psite.service
    _, found = U.search(svc, DISP, IncidentQuery(ids=tuple(psite.mine)))
    glon, glat = _crs.wgs84_to_gcj02(*PHONE)
    a = U.views(svc, DISP, found, near=Point.of(*PHONE, "wgs84"))
    b = U.views(svc, DISP, found, near=Point.parse(glon, glat, "GCJ-02"))
    assert [r["distance_m"] for r in a] == [r["distance_m"] for r in b]
    assert all("distance_m" not in r for r in U.views(svc, DISP, found))


def test_a_worker_without_a_grid_is_told_so(psite, login):
    psite.store.create_user("nogrid", "Worker-no-grid-pw-1", "worker", actor="tests")
    client = login(psite.client(), "nogrid", "Worker-no-grid-pw-1")
    html = client.get("/m/").get_data(as_text=True)
    assert "您的账户未设置网格：请联系管理员。" in html
    assert _config(html)["grid"] == {"code": None, "name": None, "outline": None}
    assert _list(client) == []  # and no task of anyone's grid
