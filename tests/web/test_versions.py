"""The version history and diff over HTTP: ``GET /api/v1/versions/<a>/diff/<b>`` (JSON and
GeoJSON), the pages ``/versions`` and ``/versions/<a>/diff/<b>``, rolling back from the page; on
SQLite and PostGIS."""

from __future__ import annotations

import pytest

from geogrid.access import SYSTEM
from geogrid.usecases import planning

KEEP, GONE, RENAMED = "320113005001001", "320113005001002", "320113005001003"


def publish_merge(svc) -> None:
    state = planning.open_draft(svc, SYSTEM, "合并试点")
    planning.edit(svc, SYSTEM, state.draft.id, {"kind": "merge", "codes": [KEEP, GONE]}, 0)
    planning.edit(
        svc, SYSTEM, state.draft.id, {"kind": "rename", "code": RENAMED, "name": "新名"}, 1
    )
    planning.publish(svc, SYSTEM, state.draft.id, "合并第一、二网格")


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def merged_site(request, make_site):
    site = make_site(request.param)
    publish_merge(site.service)
    return site


def get(site, path, role="worker"):
    return site.client().get(path, headers=site.headers(role))


def test_the_diff_api(merged_site):
    site = merged_site
    body = get(site, "/api/v1/versions/1/diff/2").get_json()
    assert body["from"]["number"] == 1 and body["to"]["note"] == "合并第一、二网格"
    assert [(g["code"], g["status"]) for g in body["grids"]] == [
        (KEEP, "changed"),
        (GONE, "retired"),
    ]
    assert "geometry" not in body["grids"][0] and "districts" not in body
    assert [(t["from"], t["to"]) for t in body["transfers"]] == [(GONE, KEEP)]
    assert [a["code"] for a in body["attributes"]] == [RENAMED]
    fc = get(site, "/api/v1/versions/2/diff/1?format=geojson").get_json()
    kinds = [(f["properties"]["kind"], f["geometry"]["type"]) for f in fc["features"]]
    assert ("transfer", "Polygon") in kinds and fc["from"] == 2
    lon, lat = fc["features"][0]["geometry"]["coordinates"][0][0]
    assert 118 < lon < 120 and 31 < lat < 33  # WGS-84
    assert get(site, "/api/v1/versions/1/diff/9").status_code == 404
    assert get(site, "/api/v1/versions/1/diff/2?format=svg").status_code == 400
    same = get(site, "/api/v1/versions/2/diff/2").get_json()
    assert same["grids"] == same["units"] == same["attributes"] == []


def test_the_pages(merged_site, login):
    site = merged_site
    client = login(site.client(), "dispatcher")
    page = client.get("/versions").get_data(as_text=True)
    assert "合并第一、二网格" in page and 'href="/versions/1/diff/2"' in page
    assert "/api/v1/versions/1/export?format=gpkg" in page and "/export?format=shp" in page
    assert "versions/1/rollback" not in page  # a dispatcher may not roll back
    resp = client.get("/versions/compare?a=1&b=2")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/versions/1/diff/2")
    diff = client.get("/versions/1/diff/2").get_data(as_text=True)
    assert GONE in diff and "新名" in diff and 'id="diff-map"' in diff
    assert client.get("/versions/1/diff/8").status_code == 404
    worker = login(site.client(), "worker")
    assert worker.get("/versions").status_code == 403
    assert worker.get("/versions/2/diff/1").status_code == 200


def test_rolling_back_from_the_page(make_site, login, csrf_token):
    site = make_site("sqlite")
    publish_merge(site.service)
    client = login(site.client(), "planner")
    page = client.get("/versions").get_data(as_text=True)
    assert "/versions/1/rollback" in page
    token = csrf_token(client, "/versions")
    empty = client.post("/versions/1/rollback", data={"message": " ", "csrf_token": token})
    assert empty.status_code == 302
    assert "needs a message" in client.get("/versions").get_data(as_text=True)
    done = client.post("/versions/1/rollback", data={"message": "合并有误", "csrf_token": token})
    assert done.status_code == 302
    page = client.get("/versions").get_data(as_text=True)
    assert 'id="version-3" class="current"' in page and "合并有误" in page
    dispatcher = login(site.client(), "dispatcher")
    token = csrf_token(dispatcher, "/versions")
    refused = dispatcher.post("/versions/2/rollback", data={"message": "x", "csrf_token": token})
    assert refused.status_code == 403
