"""The HTTP API: locate (one point and bulk), grids, units, versions, the OpenAPI document and
the docs page, and errors (always JSON, always 4xx for bad input: never a 5xx, fuzzed)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
from urllib.parse import quote

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from geogrid import crs as C
from geogrid.model import District, default_data_dir

POINT = (118.93, 32.11)  # inside 320113005007007 (东阳社区第07网格)
POINT_GRID = "320113005007007"
POINT_GRID1 = "320113005007"


@pytest.fixture(scope="module")
def sample():
    return District.load(default_data_dir())


def get(site, path, role="dispatcher", **kw):
    return site.client().get(path, headers=site.headers(role), **kw)


def post(site, path, data, content_type, role="dispatcher", **kw):
    headers = {**site.headers(role), "Content-Type": content_type}
    return site.client().post(path, data=data, headers=headers, **kw)


def error_of(resp, status):
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert body["error"]["status"] == status
    assert body["error"]["message"]
    return body["error"]["message"]


def interior_points(sample, n, seed=1):
    """Random points in the district's bounding box (inside and outside the district)."""
    minx, miny, maxx, maxy = sample.grids2.total_bounds
    rng = np.random.default_rng(seed)
    xs = rng.uniform(minx - 0.005, maxx + 0.005, n)
    ys = rng.uniform(miny - 0.005, maxy + 0.005, n)
    return xs.tolist(), ys.tolist()


# =============================================================================== GET /locate
def test_locate_one_point(any_site):
    resp = get(any_site, f"/api/v1/locate?lon={POINT[0]}&lat={POINT[1]}")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    a = resp.get_json()
    assert a["version"] == 1
    assert a["match"] == "interior"
    assert a["grid2"]["code"] == POINT_GRID and a["grid2"]["level"] == 2
    assert a["grid1"]["code"] == POINT_GRID1 and a["grid1"]["level"] == 1
    assert a["grid2"]["worker"] and a["grid1"]["leader"]  # the people responsible
    assert (a["lon"], a["lat"]) == POINT
    # five nearest units by default, nearest first, with distances
    assert len(a["units"]) == 5
    dists = [u["distance_m"] for u in a["units"]]
    assert dists == sorted(dists)
    assert "display" not in a
    # exactly the core's answer
    expected = any_site.service.locate(*POINT).to_dict()
    assert {k: a[k] for k in expected} == json.loads(json.dumps(expected))


@pytest.mark.parametrize("crs", ["gcj02", "bd09", "EPSG:4549", "cgcs2000", "EPSG:4490", "GCJ-02"])
def test_locate_in_other_systems_finds_the_same_grid(site, crs):
    x, y = C.from_wgs84(*POINT, C.normalize_crs(crs))
    a = get(site, f"/api/v1/locate?lon={x!r}&lat={y!r}&crs={crs}").get_json()
    assert a["grid2"]["code"] == POINT_GRID
    assert math.isclose(a["lon"], POINT[0], abs_tol=1e-7)
    assert math.isclose(a["lat"], POINT[1], abs_tol=1e-7)
    assert a["input"]["crs"] == C.normalize_crs(crs)


def test_locate_x_y_aliases_and_a_wrong_crs_gives_another_grid(site):
    x, y = C.to_metric(*POINT)
    a = get(site, f"/api/v1/locate?x={x}&y={y}&crs=EPSG:4549").get_json()
    assert a["grid2"]["code"] == POINT_GRID
    # the same numbers taken as GCJ-02: about 535 m away, another grid
    b = get(site, f"/api/v1/locate?lon={POINT[0]}&lat={POINT[1]}&crs=gcj02").get_json()
    assert b["grid2"]["code"] != POINT_GRID


def test_locate_display_point_for_amap(site):
    a = get(site, f"/api/v1/locate?lon={POINT[0]}&lat={POINT[1]}&display=gcj02").get_json()
    gx, gy = C.from_wgs84(*POINT, "gcj02")
    assert a["display"]["crs"] == "gcj02"
    assert math.isclose(a["display"]["lon"], gx, abs_tol=1e-6)
    assert math.isclose(a["display"]["lat"], gy, abs_tol=1e-6)
    assert 500 < C.distance_m(*POINT, a["display"]["lon"], a["display"]["lat"]) < 570


def test_locate_units_parameter(site):
    assert get(site, "/api/v1/locate?lon=118.93&lat=32.11&units=0").get_json()["units"] == []
    many = get(site, "/api/v1/locate?lon=118.93&lat=32.11&units=50").get_json()["units"]
    assert len(many) == 50
    assert len({u["code"] for u in many}) == 50


def test_locate_outside_and_near_a_boundary(site, sample):
    out = get(site, "/api/v1/locate?lon=118.5&lat=32.0").get_json()
    assert out["match"] == "outside" and out["grid2"] is None and out["grid1"] is None
    assert out["nearest"]["code"] and out["distance_m"] > 1000
    # a point on a shared edge: owned by the smaller code, the other one is a candidate at 0 m
    g = sample.grids2.set_index("code").geometry
    a, b = "320113005007007", None
    for code, geom in g.items():
        if code != a and g[a].touches(geom) and g[a].intersection(geom).length > 0:
            b = code
            break
    edge = g[a].intersection(g[b])
    mid = shapely.line_interpolate_point(shapely.line_merge(edge), 0.5, normalized=True)
    on = shapely.get_coordinates(g[a].exterior)
    # a vertex shared by both polygons lies exactly on the edge
    shared = [tuple(p.tolist()) for p in on if g[b].exterior.distance(shapely.Point(p)) == 0]
    x, y = shared[len(shared) // 2] if shared else (mid.x, mid.y)
    ans = get(site, f"/api/v1/locate?lon={x!r}&lat={y!r}").get_json()
    assert ans["match"] in ("edge", "vertex")
    assert ans["grid2"]["code"] == min(a, b)
    assert ans["needs_confirmation"] is True
    assert max(a, b) in {c["code"] for c in ans["candidates"]}


def test_locate_a_point_too_far_away_to_measure(site):
    """EPSG:4549, where distances are measured, has no coordinates for 30 E, 0 N: the answer
    is still outside, with the nearest grid and a geodesic distance."""
    a = get(site, "/api/v1/locate?lon=30&lat=0").get_json()
    assert a["match"] == "outside" and a["grid2"] is None
    assert 9_500_000 < a["distance_m"] < 10_500_000 and a["nearest"]["code"].startswith("320113005")
    assert len(a["units"]) == 5 and a["units"][0]["distance_m"] > 9_500_000
    assert a["needs_confirmation"] is False
    body = json.dumps({"type": "MultiPoint", "coordinates": [[30, 0], [-60, 0], list(POINT)]})
    props = [
        f["properties"]
        for f in post(site, "/api/v1/locate", body, "application/json").get_json()["features"]
    ]
    assert [p["match"] for p in props] == ["outside", "outside", "interior"]
    assert props[0]["distance_m"] > 9_500_000 and props[0]["error"] is None
    assert props[1]["distance_m"] > 10_000_000  # the other side of the globe: still measured


def test_locate_as_of_a_time(site):
    now = get(site, "/api/v1/locate?lon=118.93&lat=32.11&at=2999-01-01T00:00:00Z").get_json()
    assert now["version"] == 1 and now["grid2"]["code"] == POINT_GRID
    msg = error_of(get(site, "/api/v1/locate?lon=118.93&lat=32.11&at=2001-01-01"), 404)
    assert "no published version" in msg


BAD_QUERIES = [
    ("lon=abc&lat=32.11", "lon must be a number"),
    ("lon=118.93&lat=", "missing query parameter lat"),
    ("lat=32.11", "missing query parameter lon"),
    ("", "missing query parameter lon"),
    ("lon=nan&lat=32.11", "finite"),
    ("lon=118.93&lat=inf", "finite"),
    ("lon=118.93&lat=-Infinity", "finite"),
    ("lon=1e999&lat=32", "finite"),
    ("lon=118.93&lat=95", "out of range"),
    ("lon=181&lat=32.11", "out of range"),
    ("lon=0x10&lat=32.11", "must be a number"),
    ("lon=1_000&lat=32.11", "must be a number"),
    ("lon=118.93&lat=32.11&crs=mars", "unknown CRS"),
    ("lon=118.93&lat=32.11&crs=EPSG:999999", "unknown CRS"),
    ("lon=118.93&lat=32.11&crs=EPSG:5703", "not a geographic or projected"),  # a vertical CRS
    ("lon=1e30&lat=1e30&crs=EPSG:4549", "outside the area"),
    ("lon=118.93&lat=32.11&at=yesterday", "ISO 8601"),
    ("lon=118.93&lat=32.11&at=0001-01-01T00:00:00%2B08:00", "ISO 8601"),
    ("lon=118.93&lat=32.11&units=51", "units must be between 0 and 50"),
    ("lon=118.93&lat=32.11&units=-1", "units must be between"),
    ("lon=118.93&lat=32.11&units=five", "whole number"),
    ("lon=118.93&lat=32.11&display=EPSG:4549", "display must be one of"),
    ("lon=118.93&lat=32.11&display=mars", "unknown CRS"),
]


@pytest.mark.parametrize(("query", "message"), BAD_QUERIES)
def test_locate_bad_input_is_a_clear_400(site, query, message):
    assert message in error_of(get(site, f"/api/v1/locate?{query}"), 400)


# =============================================================================== POST /locate
def feature_collection(xs, ys, **extra):
    return {
        "type": "FeatureCollection",
        **extra,
        "features": [
            {
                "type": "Feature",
                "id": f"p{i}",
                "geometry": {"type": "Point", "coordinates": [x, y]},
                "properties": {"ref": i, "note": "保持不变"},
            }
            for i, (x, y) in enumerate(zip(xs, ys, strict=True))
        ],
    }


def single_answers(site, xs, ys, crs="wgs84"):
    svc = site.service
    return [svc.locate(float(x), float(y), crs) for x, y in zip(xs, ys, strict=True)]


def assert_same_answer(props, loc):
    assert props["grid2_code"] == (loc.grid2.code if loc.grid2 else None)
    assert props["grid1_code"] == (loc.grid1.code if loc.grid1 else None)
    assert props["match"] == loc.match
    assert props["distance_m"] == round(loc.distance_m, 2)
    assert props["needs_confirmation"] == loc.needs_confirmation
    assert [c["code"] for c in props["candidates"]] == [c.grid.code for c in loc.candidates]
    assert props["error"] is None


def test_bulk_geojson_answers_like_single_points(any_site, sample):
    xs, ys = interior_points(sample, 400)
    resp = post(
        any_site, "/api/v1/locate", json.dumps(feature_collection(xs, ys)), "application/geo+json"
    )
    assert resp.status_code == 200
    assert resp.mimetype == "application/geo+json"
    assert resp.headers["X-Geogrid-Version"] == "1"
    out = resp.get_json()
    assert out["type"] == "FeatureCollection" and out["version"] == 1
    assert len(out["features"]) == 400
    singles = single_answers(any_site, xs, ys)
    for i, (f, loc) in enumerate(zip(out["features"], singles, strict=True)):
        assert f["id"] == f"p{i}"
        assert f["properties"]["ref"] == i and f["properties"]["note"] == "保持不变"
        assert f["geometry"]["coordinates"] == [xs[i], ys[i]]
        assert_same_answer(f["properties"], loc)
    s = out["summary"]
    assert s["points"] == 400 and s["errors"] == 0
    assert s["located"] + s["outside"] == 400
    assert 0 < s["located"] < 400 and s["needs_confirmation"] > 0


def test_bulk_in_gcj02_and_the_legacy_crs_member(site, sample):
    xs, ys = interior_points(sample, 50, seed=3)
    gx, gy = C.from_wgs84(np.array(xs), np.array(ys), "gcj02")
    singles = single_answers(site, xs, ys)
    r1 = post(
        site,
        "/api/v1/locate?crs=gcj02",
        json.dumps(feature_collection(gx.tolist(), gy.tolist())),
        "application/json",
    )
    for f, loc in zip(r1.get_json()["features"], singles, strict=True):
        assert f["properties"]["grid2_code"] == (loc.grid2.code if loc.grid2 else None)
    mx, my = C.to_metric(np.array(xs), np.array(ys))
    legacy = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4549"}}
    body = feature_collection(mx.tolist(), my.tolist(), crs=legacy)
    r2 = post(site, "/api/v1/locate", json.dumps(body), "application/geo+json")
    out = r2.get_json()
    assert out["crs"] == legacy
    for f, loc in zip(out["features"], singles, strict=True):
        assert f["properties"]["grid2_code"] == (loc.grid2.code if loc.grid2 else None)
    msg = error_of(
        post(site, "/api/v1/locate?crs=gcj02", json.dumps(body), "application/geo+json"), 400
    )
    assert "disagree" in msg


def test_bulk_bad_points_get_an_error_each_and_never_fail_the_request(site):
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [118.93, 32.11]}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": ["118.93", 32.11]}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [118.93]}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [200, 32.11]}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}},
        {"type": "Feature", "geometry": None, "properties": None},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [True, 32.11]}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [10**400, 32.11]}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [118.93, 32.11, 12.5]}},
        42,
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": "118.93,32.11"}},
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features})
    body = body.replace("[118.93, 32.11, 12.5]", "[118.93, 32.11, 12.5]").replace(
        '"coordinates": [118.93]', '"coordinates": [NaN, 32.11]'
    )
    resp = post(site, "/api/v1/locate", body, "application/geo+json")
    assert resp.status_code == 200
    props = [f["properties"] for f in resp.get_json()["features"]]
    assert len(props) == len(features)
    ok = [0, 8]
    for i, p in enumerate(props):
        if i in ok:
            assert p["error"] is None and p["grid2_code"] == POINT_GRID
        else:
            assert p["error"], i
            assert p["grid2_code"] is None and p["match"] is None
    assert "number" in props[1]["error"]
    assert "finite" in props[2]["error"]
    assert "out of range" in props[3]["error"]
    assert "Point" in props[4]["error"]
    assert "no geometry" in props[5]["error"]
    assert resp.get_json()["summary"]["errors"] == len(features) - 2


def test_bulk_multipoint_feature_and_point(site):
    mp = {"type": "MultiPoint", "coordinates": [[118.93, 32.11], [118.5, 32.0], ["x", 1]]}
    out = post(site, "/api/v1/locate", json.dumps(mp), "application/geo+json").get_json()
    assert out["type"] == "FeatureCollection"
    props = [f["properties"] for f in out["features"]]
    assert [p["index"] for p in props] == [0, 1, 2]
    assert props[0]["grid2_code"] == POINT_GRID
    assert props[1]["match"] == "outside"
    assert props[2]["error"]
    one = {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(POINT)}}
    f = post(site, "/api/v1/locate", json.dumps(one), "application/json").get_json()
    assert f["type"] == "Feature" and f["properties"]["grid2_code"] == POINT_GRID
    p = {"type": "Point", "coordinates": list(POINT)}
    f = post(site, "/api/v1/locate", json.dumps(p), "application/json").get_json()
    assert f["type"] == "Feature" and f["geometry"] == p
    assert f["properties"]["grid1_code"] == POINT_GRID1


def read_csv(resp) -> list[dict]:
    text = resp.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_bulk_csv_answers_as_added_columns(any_site, sample):
    xs, ys = interior_points(sample, 200, seed=5)
    lines = ["name,lon,lat,remark"] + [
        f'"点 {i}, 甲",{x!r},{y!r},"说 ""好"""' for i, (x, y) in enumerate(zip(xs, ys, strict=True))
    ]
    lines.append('"坏点",abc,32.1,')
    lines.append('"短行",118.9')
    resp = post(any_site, "/api/v1/locate", "\r\n".join(lines) + "\r\n", "text/csv")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.headers["X-Geogrid-Version"] == "1"
    rows = read_csv(resp)
    assert list(rows[0]) == [
        "name",
        "lon",
        "lat",
        "remark",
        "grid2_code",
        "grid1_code",
        "match",
        "distance_m",
        "needs_confirmation",
        "candidates",
        "error",
    ]
    assert len(rows) == 202
    for i, (row, loc) in enumerate(zip(rows, single_answers(any_site, xs, ys), strict=False)):
        assert row["name"] == f"点 {i}, 甲" and row["remark"] == '说 "好"'
        assert row["grid2_code"] == (loc.grid2.code if loc.grid2 else "")
        assert row["match"] == loc.match
        assert float(row["distance_m"]) == round(loc.distance_m, 2)
        assert row["needs_confirmation"] == ("true" if loc.needs_confirmation else "false")
        assert row["candidates"] == ";".join(c.grid.code for c in loc.candidates)
        assert row["error"] == ""
    assert "must be a number" in rows[200]["error"] and rows[200]["grid2_code"] == ""
    assert "fewer than the header" in rows[201]["error"]


def test_bulk_csv_x_y_columns_bom_and_gbk(site):
    x, y = C.to_metric(*POINT)
    text = f"编号,X,Y\n1,{x},{y}\n"
    resp = post(site, "/api/v1/locate?crs=EPSG:4549", text.encode("utf-8-sig"), "text/csv")
    assert resp.data.startswith(b"\xef\xbb\xbf")  # Excel's byte-order mark is kept
    assert read_csv(resp)[0]["grid2_code"] == POINT_GRID
    gbk = f"名称,经度,纬度\n仙林,{POINT[0]},{POINT[1]}\n".encode("gb18030")
    rows = read_csv(post(site, "/api/v1/locate", gbk, "text/csv; charset=gbk"))
    assert rows[0]["名称"] == "仙林" and rows[0]["grid2_code"] == POINT_GRID
    # columns already named like an answer are filled in, not duplicated
    again = f"lon,lat,grid2_code\n{POINT[0]},{POINT[1]},old\n"
    resp = post(site, "/api/v1/locate", again, "text/csv")
    header = resp.get_data(as_text=True).splitlines()[0].split(",")
    assert header.count("grid2_code") == 1
    assert read_csv(resp)[0]["grid2_code"] == POINT_GRID
    # a header only: no rows, the answer columns all the same
    only = read_csv(post(site, "/api/v1/locate", "lon,lat\n", "text/csv"))
    assert only == []


def test_bulk_csv_rows_that_do_not_fit_the_header(site):
    text = "name,lon,lat\na,118.93,32.11,stray\nb,118.93,\nc,118.93,32.11,,\n,,\n"
    rows = read_csv(post(site, "/api/v1/locate", text, "text/csv"))
    assert [r["name"] for r in rows] == ["a", "b", "c"]  # a row of separators only is blank
    assert rows[0]["error"] == "the row has more values than the header's 3 columns"
    assert rows[1]["error"] == "lat is empty"
    assert rows[2]["grid2_code"] == POINT_GRID and rows[2]["error"] == ""


BAD_BODIES = [
    ("application/json", "{not json", 400, "not valid JSON"),
    ("application/json", "[1, 2]", 400, "expected a GeoJSON"),
    ("application/json", '{"type": "Polygon", "coordinates": []}', 400, "expected a GeoJSON"),
    ("application/json", '{"type": "FeatureCollection"}', 400, '"features" array'),
    ("application/json", '{"type": "FeatureCollection", "features": {}}', 400, "features"),
    ("application/json", '{"type": "MultiPoint", "coordinates": 5}', 400, "coordinates"),
    ("application/json", "[" * 100_000 + "]" * 100_000, 400, "not valid JSON"),
    ("application/json", '{"type": "Point", "coordinates": [1, 2], "crs": "x"}', 400, "crs"),
    ("application/json", "", 400, "not valid JSON"),
    ("text/csv", "", 400, "empty"),
    ("text/csv", "a,b\n1,2\n", 400, "lon and lat"),
    ("text/csv", b"lon,lat\n\xff\xfe\xfa,1\n", 400, None),
    ("text/csv", "lon,lat\n" + "1" * 200_000 + ",2\n", 400, "CSV"),
    ("application/xml", "<points/>", 415, "send GeoJSON"),
    ("multipart/form-data; boundary=x", "--x--", 415, "send GeoJSON"),
]


@pytest.mark.parametrize(("ctype", "body", "status", "message"), BAD_BODIES)
def test_bulk_malformed_bodies(site, ctype, body, status, message):
    msg = error_of(post(site, "/api/v1/locate", body, ctype), status)
    if message:
        assert message in msg


def test_bulk_too_many_points_and_too_large_bodies(site, monkeypatch):
    monkeypatch.setitem(site.app.config, "MAX_LOCATE_POINTS", 10)
    body = json.dumps(feature_collection([118.93] * 11, [32.11] * 11))
    assert "too many points" in error_of(
        post(site, "/api/v1/locate", body, "application/json"), 413
    )
    body = json.dumps({"type": "MultiPoint", "coordinates": [[118.93, 32.11]] * 11})
    assert "limit 10" in error_of(post(site, "/api/v1/locate", body, "application/json"), 413)
    rows = "lon,lat\n" + "118.93,32.11\n" * 11
    assert "too many points" in error_of(post(site, "/api/v1/locate", rows, "text/csv"), 413)
    rows = "lon,lat\n" + "118.93,32.11\n" * 10
    assert len(read_csv(post(site, "/api/v1/locate", rows, "text/csv"))) == 10
    monkeypatch.setitem(site.app.config, "MAX_CONTENT_LENGTH", 4096)
    big = "lon,lat\n" + "118.93,32.11\n" * 1000
    assert "too large" in error_of(post(site, "/api/v1/locate", big, "text/csv"), 413)


def test_bulk_100k_points(site, sample):
    """The bulk path for the full 100,000 points (answers checked against locate_many; its time:
    bench/tasks_bench.py)."""
    n = site.app.config["MAX_LOCATE_POINTS"]
    xs, ys = interior_points(sample, n, seed=11)
    body = json.dumps(feature_collection(xs, ys))
    get(site, "/api/v1/locate?lon=118.93&lat=32.11")  # the locator is built
    resp = post(site, "/api/v1/locate", body, "application/geo+json")
    assert resp.status_code == 200
    out = resp.get_json()
    assert out["summary"]["points"] == n and out["summary"]["errors"] == 0
    owners = site.service.locate_many(xs, ys).grid2_codes.tolist()
    assert [f["properties"]["grid2_code"] for f in out["features"]] == owners


def test_session_posts_need_the_csrf_header_token_posts_do_not(site, login, csrf_token):
    body = json.dumps({"type": "Point", "coordinates": list(POINT)})
    client = login(site.client(), "dispatcher")
    resp = client.post("/api/v1/locate", data=body, content_type="application/json")
    assert "CSRF" in error_of(resp, 400)
    token = csrf_token(client, "/account/tokens")
    resp = client.post(
        "/api/v1/locate",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert resp.status_code == 200
    assert resp.get_json()["properties"]["grid2_code"] == POINT_GRID
    # with a token, no CSRF token is needed (and a session is not needed either)
    assert post(site, "/api/v1/locate", body, "application/json").status_code == 200


# =============================================================================== grids
def coordinates_of(feature) -> np.ndarray:
    return shapely.get_coordinates(shape(feature["geometry"]))


@pytest.mark.parametrize(("level", "count"), [(0, 1), (1, 10), (2, 156)])
def test_grids_of_each_level(any_site, sample, level, count):
    resp = get(any_site, f"/api/v1/grids?level={level}")
    assert resp.status_code == 200
    assert resp.mimetype == "application/geo+json"
    fc = resp.get_json()
    assert fc["type"] == "FeatureCollection" and fc["version"] == 1 and fc["level"] == level
    assert len(fc["features"]) == count
    for f in fc["features"]:
        assert f["type"] == "Feature" and f["id"] == f["properties"]["code"]
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert shape(f["geometry"]).is_valid
        xy = coordinates_of(f)
        assert (np.abs(xy[:, 0] - 118.93) < 0.2).all() and (np.abs(xy[:, 1] - 32.11) < 0.2).all()
        p = f["properties"]
        assert p["level"] == level
        assert set(p) >= {"code", "name", "level", "parent", "kind"}
    props = {f["properties"]["code"]: f["properties"] for f in fc["features"]}
    if level == 2:
        rec = sample.grid2(POINT_GRID)
        assert props[POINT_GRID]["name"] == rec["name"]
        assert props[POINT_GRID]["parent"] == POINT_GRID1
        assert props[POINT_GRID]["worker"] == rec["worker"]
        assert props[POINT_GRID]["kind"] == rec["kind"]
    elif level == 1:
        assert props[POINT_GRID1]["leader"] and props[POINT_GRID1]["office_phone"]
    else:
        assert props == {
            "320113005": {
                "code": "320113005",
                "name": sample.name,
                "level": 0,
                "parent": None,
                "kind": None,
            }
        }


def test_grids_exact_by_default_simplified_on_request_for_amap(site, sample):
    exact = get(site, "/api/v1/grids").get_json()["features"]
    geoms = {f["id"]: shape(f["geometry"]) for f in exact}
    src = sample.grids2.set_index("code").geometry
    for code, g in geoms.items():
        assert g.equals_exact(src[code], 1e-6)
    light = get(site, "/api/v1/grids?simplify=5").get_json()["features"]
    n_exact = sum(len(coordinates_of(f)) for f in exact)
    n_light = sum(len(coordinates_of(f)) for f in light)
    assert n_light < n_exact / 2
    polys = np.array([shape(f["geometry"]) for f in light])
    assert bool(shapely.coverage_is_valid(polys))  # neighbours still share their edges
    gcj = get(site, "/api/v1/grids?crs=gcj02").get_json()
    assert gcj["display_crs"] == "gcj02"
    g = shape(next(f for f in gcj["features"] if f["id"] == POINT_GRID)["geometry"])
    c0, c1 = src[POINT_GRID].centroid, g.centroid
    assert 500 < C.distance_m(c0.x, c0.y, c1.x, c1.y) < 570


def test_simplified_levels_nest_exactly_as_on_the_map(site):
    """What map.js draws on AMap tiles: communities and outline share the grids' edges exactly."""
    layer = {
        level: get(site, f"/api/v1/grids?level={level}&crs=gcj02&simplify=2").get_json()["features"]
        for level in (0, 1, 2)
    }
    g2 = {f["id"]: shape(f["geometry"]) for f in layer[2]}
    for f in layer[1]:
        members = [g for code, g in g2.items() if code.startswith(f["id"])]
        assert shapely.equals(shape(f["geometry"]), shapely.union_all(members)), f["id"]
    assert shapely.equals(shape(layer[0][0]["geometry"]), shapely.union_all(list(g2.values())))


def test_one_grid(any_site):
    f = get(any_site, f"/api/v1/grids/{POINT_GRID}").get_json()
    assert f["type"] == "Feature" and f["id"] == POINT_GRID and f["version"] == 1
    assert f["properties"]["level"] == 2 and f["properties"]["worker"]
    assert shape(f["geometry"]).contains(shapely.Point(POINT))
    g1 = get(any_site, f"/api/v1/grids/{POINT_GRID1}").get_json()
    assert g1["properties"]["level"] == 1 and shape(g1["geometry"]).contains(shapely.Point(POINT))
    d = get(any_site, "/api/v1/grids/320113005?simplify=10").get_json()
    assert d["properties"]["level"] == 0
    # simplified alone or with all its neighbours: the same shape
    all2 = get(any_site, "/api/v1/grids?simplify=10").get_json()["features"]
    one = get(any_site, f"/api/v1/grids/{POINT_GRID}?simplify=10").get_json()
    assert one["geometry"] == next(f for f in all2 if f["id"] == POINT_GRID)["geometry"]
    assert "no grid" in error_of(get(any_site, "/api/v1/grids/999"), 404)


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("level=3", 400, "level must be between 0 and 2"),
        ("level=x", 400, "whole number"),
        ("version=99", 404, "no version 99"),
        ("version=0", 400, "version must be between 1 and"),
        ("version=99999999999999999999", 400, "version must be between 1 and"),
        ("version=1.5", 400, "whole number"),
        ("simplify=-1", 400, "simplify must be between"),
        ("simplify=nan", 400, "finite"),
        ("simplify=1e9", 400, "simplify must be between"),
        ("crs=EPSG:4549", 400, "crs must be one of"),
        ("crs=mars", 400, "unknown CRS"),
    ],
)
def test_grids_bad_parameters(site, query, status, message):
    assert message in error_of(get(site, f"/api/v1/grids?{query}"), status)


def test_grids_carry_the_current_roster_and_old_versions_stay_readable(make_site, sample):
    site = make_site()
    svc = site.service
    before = get(site, f"/api/v1/grids/{POINT_GRID}").get_json()["properties"]["worker"]
    site.store.assign(svc.district_code, POINT_GRID, "worker", "新网格员", "13900000000", actor="t")

    def grid_if(check):
        feature = get(site, f"/api/v1/grids/{POINT_GRID}").get_json()
        return feature if check(feature) else None

    after = site.wait_for(
        lambda: grid_if(lambda f: f["properties"]["worker"] == "新网格员"), what="the roster"
    )["properties"]
    assert before != "新网格员"
    assert after["worker"] == "新网格员" and after["worker_phone"] == "13900000000"
    a = get(site, f"/api/v1/locate?lon={POINT[0]}&lat={POINT[1]}").get_json()
    assert a["grid2"]["worker"] == "新网格员"
    # publish version 2 (one grid renamed): version 1 stays readable, with today's roster
    d = site.store.load_district(svc.current()[0].id)
    d.grids2.loc[d.grids2["code"] == POINT_GRID, "name"] = "改名的网格"
    v2 = site.store.create_version(d, actor="t", note="rename")
    site.store.publish(v2.id, actor="t")
    cur = site.wait_for(lambda: grid_if(lambda f: f["version"] == 2), what="version 2")
    assert cur["version"] == 2 and cur["properties"]["name"] == "改名的网格"
    old = get(site, f"/api/v1/grids/{POINT_GRID}?version=1").get_json()
    assert old["version"] == 1 and old["properties"]["name"] == sample.grid2(POINT_GRID)["name"]
    assert old["properties"]["worker"] == "新网格员"
    versions = get(site, "/api/v1/versions").get_json()["versions"]
    assert [(v["number"], v["current"], v["base"]) for v in versions] == [
        (2, True, 1),
        (1, False, None),
    ]
    assert versions[0]["note"] == "rename" and versions[0]["status"] == "published"
    # as of a time before version 2: version 1
    t1 = versions[1]["published_at"]
    a = get(site, f"/api/v1/locate?lon={POINT[0]}&lat={POINT[1]}&at={quote(t1)}").get_json()
    assert a["version"] == 1 and a["grid2"]["name"] == sample.grid2(POINT_GRID)["name"]


# =============================================================================== units
def test_units_listing_and_filters(any_site, sample):
    units = sample.units
    fc = get(any_site, "/api/v1/units").get_json()
    assert fc["type"] == "FeatureCollection" and fc["total"] == len(units) == 1786
    assert len(fc["features"]) == 1786 and fc["limit"] == 2000 and fc["offset"] == 0
    f = fc["features"][0]
    assert f["geometry"]["type"] == "Point" and f["id"] == f["properties"]["code"]
    assert set(f["properties"]) >= {"code", "name", "category", "address", "grid"}
    page = get(any_site, "/api/v1/units?limit=100&offset=1700").get_json()
    assert page["total"] == 1786 and len(page["features"]) == 86
    assert page["features"][0]["id"] == fc["features"][1700]["id"]
    shops = get(any_site, "/api/v1/units?category=商铺,高校").get_json()
    assert shops["total"] == int(units["category"].isin(["商铺", "高校"]).sum())
    q = get(any_site, "/api/v1/units?q=眼镜").get_json()
    assert q["total"] == int(units["name"].str.contains("眼镜", regex=False).sum()) > 0
    by_code = get(any_site, "/api/v1/units?q=3201130050010010001").get_json()
    assert [f["id"] for f in by_code["features"]] == ["3201130050010010001"]
    in_grid = get(any_site, f"/api/v1/units?grid={POINT_GRID}").get_json()
    assert in_grid["total"] == int((units["grid"] == POINT_GRID).sum()) > 0
    in_g1 = get(any_site, f"/api/v1/units?grid={POINT_GRID1}").get_json()
    assert in_g1["total"] == int(units["grid"].str.startswith(POINT_GRID1).sum())
    box = (118.92, 32.10, 118.94, 32.12)
    inbox = get(any_site, "/api/v1/units?bbox=" + ",".join(map(str, box))).get_json()
    x, y = units.geometry.x, units.geometry.y
    expected = int(((x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])).sum())
    assert inbox["total"] == expected > 0
    for f in inbox["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


def test_units_for_amap(site):
    wgs = get(site, "/api/v1/units?limit=1").get_json()["features"][0]
    gcj = get(site, "/api/v1/units?limit=1&crs=gcj02").get_json()["features"][0]
    assert gcj["id"] == wgs["id"]
    expected = C.from_wgs84(*wgs["geometry"]["coordinates"], "gcj02")
    assert np.allclose(gcj["geometry"]["coordinates"], expected, atol=1e-6)


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("limit=0", 400, "limit must be between 1 and 5000"),
        ("limit=5001", 400, "limit must be between 1 and 5000"),
        ("offset=-1", 400, "offset must be between 0 and"),
        ("bbox=1,2,3", 400, "bbox must be"),
        ("bbox=118.9,32.1,118.8,32.2", 400, "min <= max"),
        ("bbox=118.9,32.1,118.95,nan", 400, "finite"),
        ("bbox=118.9,32.1,218.95,32.2", 400, "out of range"),
        ("grid=123", 404, "no grid"),
        ("q=" + "x" * 201, 400, "200 characters"),
        ("version=7", 404, "no version 7"),
    ],
)
def test_units_bad_parameters(site, query, status, message):
    assert message in error_of(get(site, f"/api/v1/units?{query}"), status)


# =============================================================================== versions
def test_versions(any_site):
    body = get(any_site, "/api/v1/versions").get_json()
    assert body["district"] == "320113005"
    (v,) = body["versions"]
    assert v["number"] == 1 and v["status"] == "published" and v["current"] is True
    assert v["grid_count"] == 156 and v["unit_count"] == 1786
    assert v["published_at"].endswith("+00:00") and v["note"] == "initial import"


# =============================================================================== errors
def test_unknown_api_path_and_wrong_method_are_json(site):
    assert "not found" in error_of(get(site, "/api/v1/nothing-here"), 404).lower()
    assert error_of(site.client().get("/api/v2/locate"), 404)
    resp = site.client().delete("/api/v1/locate", headers=site.headers("admin"))
    error_of(resp, 405)
    assert set(resp.headers["Allow"].split(", ")) >= {"GET", "POST"}
    error_of(site.client().put("/api/v1/grids", headers=site.headers("admin")), 405)


def test_anonymous_api_calls_get_401_json(site):
    for path in ("/api/v1/locate?lon=118.93&lat=32.11", "/api/v1/grids", "/api/v1/versions"):
        resp = site.client().get(path)
        assert "authentication required" in error_of(resp, 401)
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    error_of(site.client().post("/api/v1/locate", data="{}", content_type="application/json"), 401)
    bad = {"Authorization": "Bearer ggt_not-a-real-token"}
    error_of(site.client().get("/api/v1/versions", headers=bad), 401)
    error_of(site.client().get("/api/v1/versions", headers={"Authorization": "Bearer "}), 401)


# =============================================================================== OpenAPI, docs
def openapi_doc(site):
    resp = site.client().get("/api/v1/openapi.json")  # public: no token
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    return resp.get_json()


def test_openapi_document_is_valid(site):
    from openapi_spec_validator import validate

    doc = openapi_doc(site)
    validate(doc)
    assert doc["openapi"].startswith("3.")
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert doc["paths"]["/api/v1/openapi.json"]["get"]["security"] == []


def test_openapi_documents_every_api_rule_and_nothing_else(site):
    doc = openapi_doc(site)
    seen = set()
    for rule in site.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", rule.rule)
        assert path in doc["paths"], f"{rule.rule} ({rule.endpoint}) is not documented"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            op = doc["paths"][path].get(method.lower())
            assert op, f"{method} {rule.rule}: no YAML for it after --- in the view's docstring"
            assert op.get("summary") and op.get("responses"), f"{method} {rule.rule}"
            seen.add((path, method.lower()))
    documented = {
        (p, m) for p, ops in doc["paths"].items() for m in ops if m not in ("parameters",)
    }
    assert documented == seen


def test_responses_match_the_documented_schemas(site):
    """A few real answers validated against the document's schemas (OpenAPI 3.1: JSON Schema 2020-12)."""
    from openapi_schema_validator import OAS31Validator

    doc = openapi_doc(site)

    def check(path, url, method="get", status="200", media="application/json", **kw):
        resp = get(site, url) if method == "get" else post(site, url, kw["data"], kw["ctype"])
        assert resp.status_code == int(status)
        response = doc["paths"][path][method]["responses"][status]
        if "$ref" in response:
            response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        schema = {**response["content"][media]["schema"], "components": doc["components"]}
        OAS31Validator(schema).validate(resp.get_json())

    geo = "application/geo+json"
    check("/api/v1/locate", "/api/v1/locate?lon=118.93&lat=32.11&display=gcj02")
    check("/api/v1/locate", "/api/v1/locate?lon=118.5&lat=32.0")
    check("/api/v1/locate", "/api/v1/locate?lon=abc&lat=1", status="400")
    check("/api/v1/grids", "/api/v1/grids?level=1", media=geo)
    check("/api/v1/grids/{code}", f"/api/v1/grids/{POINT_GRID}", media=geo)
    check("/api/v1/grids/{code}", "/api/v1/grids/nothing", status="404")
    check("/api/v1/units", "/api/v1/units?limit=20", media=geo)
    check("/api/v1/versions", "/api/v1/versions")
    body = json.dumps({"type": "MultiPoint", "coordinates": [[118.93, 32.11], [1, "x"]]})
    check("/api/v1/locate", "/api/v1/locate", "post", data=body, ctype=geo, media=geo)


def test_docs_page_uses_local_swagger_ui(site, login):
    client = site.client()
    resp = client.get("/api/v1/docs")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    login(client, "worker")
    resp = client.get("/api/v1/docs")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    assert "/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "/vendor/swagger-ui/swagger-ui.css" in html
    assert "/static/api-docs.js" in html
    assert "//cdn" not in html and "unpkg" not in html and "jsdelivr" not in html
    for path in (
        "/vendor/swagger-ui/swagger-ui-bundle.js",
        "/vendor/swagger-ui/swagger-ui.css",
        "/static/api-docs.js",
    ):
        r = client.get(path)
        assert r.status_code == 200, path
        r.close()


# =============================================================================== fuzzing
# Whatever arrives, the API answers JSON with a 2xx or 4xx status: never a 5xx.
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,  # no .hypothesis folder in the work tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["118.93", "32.11", "nan", "-inf", "1e309", "0", "-0", "1e-320", ""]),
)
_VALUES = st.one_of(
    _TEXT,
    _NUMBERS,
    st.sampled_from(
        [
            "wgs84",
            "gcj02",
            "bd09",
            "EPSG:4549",
            "EPSG:3857",
            "EPSG:4978",
            "2026-01-01",
            "30",
            "1",
            "2",
            "0",
            "-1",
            "99999999999999999999",
            "118.9,32.1,119.0,32.2",
            "商铺",
            "320113005001",
        ]
    ),
)
_PARAMS = ["lon", "lat", "x", "y", "crs", "units", "at", "display", "level", "version",
           "simplify", "q", "category", "grid", "bbox", "limit", "offset"]  # fmt: skip
_GET_PATHS = ["/api/v1/locate", "/api/v1/grids", f"/api/v1/grids/{POINT_GRID}", "/api/v1/units",
              "/api/v1/versions"]  # fmt: skip


def assert_answered(resp):
    assert resp.status_code < 500, resp.get_data(as_text=True)[:500]
    if resp.status_code in (301, 308):  # Werkzeug's canonical URL (a//b -> a/b): no error
        assert resp.headers["Location"]
        return
    if resp.mimetype in ("application/json", "application/geo+json"):
        body = json.loads(resp.get_data())  # valid JSON, whatever happened
        if resp.status_code >= 400:
            assert body["error"]["status"] == resp.status_code and body["error"]["message"]
    else:
        assert resp.mimetype == "text/csv" and resp.status_code == 200


@FUZZ
@given(
    path=st.one_of(
        st.sampled_from(_GET_PATHS), _TEXT.map(lambda t: "/api/v1/grids/" + quote(t, safe=""))
    ),
    params=st.dictionaries(st.sampled_from(_PARAMS), _VALUES, max_size=6),
)
def test_fuzz_query_strings(site, path, params):
    resp = site.client().get(path, query_string=params, headers=site.headers("planner"))
    assert_answered(resp)


@FUZZ
@given(query=_TEXT, path=st.sampled_from(_GET_PATHS))
def test_fuzz_raw_query_strings(site, query, path):
    resp = site.client().get(f"{path}?{query}", headers=site.headers("worker"))
    assert_answered(resp)


_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), _TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4)),
    max_leaves=20,
)
_POSITION = st.one_of(
    st.lists(st.one_of(st.floats(), st.integers(), _TEXT, st.none()), max_size=4),
    _JSON,
)
_FEATURE = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["Feature", "feature", "Point"]),
            "geometry": st.one_of(
                st.none(),
                st.fixed_dictionaries(
                    {"type": st.sampled_from(["Point", "LineString", ""]), "coordinates": _POSITION}
                ),
            ),
            "properties": st.one_of(st.none(), _JSON),
        }
    ),
    _JSON,
)
_GEOJSON = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("FeatureCollection"), "features": st.lists(_FEATURE, max_size=5)},
        optional={"crs": _JSON},
    ),
    st.fixed_dictionaries({"type": st.just("MultiPoint"), "coordinates": st.lists(_POSITION, max_size=5)}),
    st.fixed_dictionaries({"type": st.sampled_from(["Point", "Feature"]), "coordinates": _POSITION, "geometry": _JSON}),
    _JSON,
)  # fmt: skip


@FUZZ
@given(
    body=st.one_of(
        _GEOJSON.map(lambda o: json.dumps(o, allow_nan=True).encode()),
        st.binary(max_size=200),
        st.lists(st.lists(_VALUES, max_size=4), max_size=6).map(
            lambda rows: "\n".join(",".join(r) for r in [["lon", "lat", "id"], *rows]).encode()
        ),
    ),
    ctype=st.sampled_from(["application/json", "application/geo+json", "text/csv", "text/plain", ""]),
    crs=st.one_of(st.none(), st.sampled_from(["gcj02", "bd09", "EPSG:4549", "EPSG:3857", "mars", ""])),
)  # fmt: skip
def test_fuzz_bulk_bodies(site, body, ctype, crs):
    headers = {**site.headers("dispatcher"), "Content-Type": ctype}
    path = "/api/v1/locate" + ("" if crs is None else f"?crs={quote(crs)}")
    assert_answered(site.client().post(path, data=body, headers=headers))


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_schemathesis(make_site, mode):
    """Requests generated by schemathesis from the OpenAPI document, for every documented
    operation: never a 5xx; valid requests get the documented statuses, media types and bodies.

    (Driven by hand: schemathesis' pytest loader does not run under pytest 9.)
    """
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    site = make_site("sqlite")  # its own: generated requests report incidents, add categories
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", site.app)
    checks = [not_a_server_error]
    if mode == "positive":
        checks += [status_code_conformance, content_type_conformance, response_schema_conformance]
    generation = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:
        if operation.path == "/api/v1/docs":
            continue  # an HTML page (tested above)
        if operation.path == "/api/v1/events":
            continue  # a stream without an end (tests/web/test_events.py)

        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=operation.as_strategy(generation_mode=generation))
        def run(case):
            # the WSGI transport does not undo gzip: ask for plain bodies
            headers = {**site.headers("admin"), "Accept-Encoding": "identity"}
            response = case.call(headers=headers)
            case.validate_response(response, checks=checks)

        try:
            run()
        except Exception as exc:
            raise AssertionError(f"{operation.method.upper()} {operation.path}: {exc}") from exc


def test_text_responses_are_gzipped_when_accepted(site):
    plain = site.client().get("/api/v1/units?limit=5000", headers=site.headers("dispatcher"))
    zipped = site.client().get(
        "/api/v1/units?limit=5000",
        headers={**site.headers("dispatcher"), "Accept-Encoding": "gzip"},
    )
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 4
    assert "Content-Encoding" not in plain.headers
