"""The import and export API on both backends: a version exported, edited as QGIS would and
imported back as a draft; bad files answered 400 in JSON with no draft left behind."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import pyogrio
import pytest
import shapely
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

A, B = "320113005001001", "320113005001002"


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def ex_site(request, make_site):
    return make_site(request.param)


def _get(site, path, role="planner"):
    return site.client().get(path, headers=site.headers(role))


def _import(site, data: bytes, filename: str, role="planner", **fields):
    form = {"name": fields.pop("name", "导入"), **fields}
    form["file"] = FileStorage(io.BytesIO(data), filename=filename)
    # encoded here in memory: the test client spools a large body to a file it never closes
    boundary, body = encode_multipart(form)
    return site.client().post(
        "/api/v1/drafts/import", data=body, headers=site.headers(role),
        content_type=f"multipart/form-data; boundary={boundary}",
    )  # fmt: skip


def _drafts(site) -> int:
    return len(_get(site, "/api/v1/drafts?status=all").get_json()["drafts"])


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp"])
def test_export_and_import_unchanged(ex_site, fmt):
    resp = _get(ex_site, f"/api/v1/versions/1/export?format={fmt}", role="dispatcher")
    assert resp.status_code == 200
    disposition = resp.headers["Content-Disposition"]
    suffix = {"gpkg": ".gpkg", "geojson": "-grids2.geojson", "shp": ".zip"}[fmt]
    assert disposition.startswith("attachment") and disposition.endswith(f"320113005-v1{suffix}")
    assert resp.mimetype == {"gpkg": "application/geopackage+sqlite3",
                             "geojson": "application/geo+json", "shp": "application/zip"}[fmt]  # fmt: skip
    answer = _import(ex_site, resp.data, f"x{suffix}")
    assert answer.status_code == 201, answer.get_data(as_text=True)[:300]
    body = answer.get_json()
    assert body["report"]["ok"] and body["changed"] == []
    assert body["impact"]["summary"]["grids"] == 0 and body["impact"]["attributes"] == []


def test_edited_gpkg_round_trip_and_publish(ex_site, tmp_path):
    data = _get(ex_site, "/api/v1/versions/1/export?format=gpkg&layer=grids2").data
    path = tmp_path / "edit.gpkg"
    path.write_bytes(data)
    frame = gpd.read_file(path, layer="grids2", engine="pyogrio")
    geoms = dict(zip(frame["code"], frame.geometry, strict=True))
    a = {tuple(p) for p in shapely.get_coordinates(geoms[A])}
    b = {tuple(p) for p in shapely.get_coordinates(geoms[B])}
    rest = set()
    for code, geom in geoms.items():
        if code not in (A, B):
            rest |= {tuple(p) for p in shapely.get_coordinates(geom)}
    vx, vy = sorted((a & b) - rest)[0]

    def move(c):
        c = c.copy()
        c[(c[:, 0] == vx) & (c[:, 1] == vy), 0] += 0.0002
        return c

    frame = frame.set_geometry(
        [
            shapely.transform(g, move) if c in (A, B) else g
            for c, g in zip(frame["code"], frame.geometry, strict=True)
        ]
    )
    frame.loc[frame["code"] == A, "name"] = "网页导入改名"
    pyogrio.write_dataframe(frame, path, layer="grids2", driver="GPKG")
    answer = _import(ex_site, path.read_bytes(), "edit.gpkg", name="网页导入")
    assert answer.status_code == 201, answer.get_data(as_text=True)[:300]
    body = answer.get_json()
    assert body["report"]["ok"] and sorted(body["changed"]) == [A, B]
    assert [g["code"] for g in body["impact"]["grids"]] == [A, B]
    assert body["impact"]["attributes"][0]["changes"]["name"][1] == "网页导入改名"
    assert body["impact"]["areas"]["type"] == "FeatureCollection"
    draft_id = body["draft"]["id"]
    exported = _get(ex_site, f"/api/v1/drafts/{draft_id}/export?format=geojson")
    assert exported.status_code == 200
    names = {
        f["properties"]["code"]: f["properties"]["name"]
        for f in json.loads(exported.data)["features"]
    }
    assert names[A] == "网页导入改名"
    zipped = _get(ex_site, f"/api/v1/drafts/{draft_id}/export?format=shp&layer=grids2")
    assert zipfile.ZipFile(io.BytesIO(zipped.data)).namelist()
    pub = ex_site.client().post(
        f"/api/v1/drafts/{draft_id}/publish",
        json={"message": "QGIS"},
        headers=ex_site.headers("planner"),
    )
    assert pub.status_code == 200, pub.get_data(as_text=True)[:300]


def test_bad_files_are_400_and_leave_no_draft(ex_site):
    before = _drafts(ex_site)
    units = _get(ex_site, "/api/v1/versions/1/export?format=geojson&layer=units").data
    cases = [
        (b"not a GIS file at all", "a.geojson", {}),
        (b"", "b.gpkg", {}),
        (b"hello", "c.txt", {}),
        (units, "units.geojson", {}),
        (b"PK\x03\x04 broken", "d.zip", {}),
    ]
    for data, name, fields in cases:
        resp = _import(ex_site, data, name, **fields)
        assert resp.status_code == 400, (name, resp.get_data(as_text=True)[:300])
        assert resp.get_json()["error"]["message"]
    grids = _get(ex_site, "/api/v1/versions/1/export?format=geojson").data
    assert _import(ex_site, grids, "g.geojson", crs="gcj02").status_code == 400
    assert _import(ex_site, grids, "g.geojson", name="").status_code == 400
    assert _drafts(ex_site) == before
    for query in ("format=kml", "layer=roads", "format=geojson&extra=1"):
        resp = _get(ex_site, f"/api/v1/versions/1/export?{query}")
        assert resp.status_code == 400 and resp.get_json()["error"]["status"] == 400
    assert _get(ex_site, "/api/v1/versions/99/export").status_code == 404


def test_an_upload_over_the_limit_is_413(make_site):
    site = make_site("sqlite", MAX_CONTENT_LENGTH=1000)
    resp = _import(site, b"x" * 5000, "big.geojson")
    assert resp.status_code == 413
    assert resp.get_json()["error"]["status"] == 413


def test_the_import_page(make_site, login, csrf_token):
    site = make_site("sqlite")
    client = login(site.client(), "planner")
    page = client.get("/plan/import")
    assert page.status_code == 200 and 'name="file"' in page.get_data(as_text=True)
    data = _get(site, "/api/v1/versions/1/export?format=geojson").data
    token = csrf_token(client, "/plan/import")
    form = {"name": "页面导入", "crs": "", "csrf_token": token,
            "file": FileStorage(io.BytesIO(data), filename="g.geojson")}  # fmt: skip
    boundary, body = encode_multipart(form)
    resp = client.post(
        "/plan/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 201, html[:500]
    assert "/plan?draft=" in html and "/export?format=gpkg" in html
    form["file"] = FileStorage(io.BytesIO(b"nonsense"), filename="g.geojson")
    boundary, body = encode_multipart(form)
    bad = client.post(
        "/plan/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert bad.status_code == 400 and 'role="alert"' in bad.get_data(as_text=True)
    worker = login(site.client(), "worker")
    assert worker.get("/plan/import").status_code == 403
