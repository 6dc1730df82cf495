"""OGC API – Features at /ogc through the test client: the documents, paging by the links,
boxes and CRSs (Part 2), property and time filters, versions, who may read what, errors, pages.
The same answers must hold on SQLite and PostGIS."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import shape
from test_versions import GONE, KEEP, publish_merge
from web_support import ROLES, WORKER_GRID

from geogrid.crs import from_metric
from geogrid.model import District, default_data_dir

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
SAMPLE = District.load(default_data_dir())
BOX = (118.925, 32.100, 118.945, 32.115)


def get(site, path, role="dispatcher", **headers):
    if role is not None:
        headers.update(site.headers(role))
    return site.client().get(path, headers=headers)


def follow(site, path, role="dispatcher"):
    """Every feature of a collection, page by page through the ``next`` links."""
    out, pages = [], 0
    while path:
        body = get(site, path, role).get_json()
        out += body["features"]
        pages += 1
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        assert all(link["href"].startswith("http://localhost/ogc/") for link in body["links"])
        path = nxt[0].replace("http://localhost", "") if nxt else None
        assert body["numberReturned"] == len(body["features"])
    return out, pages, body["numberMatched"]


def test_landing_conformance_and_api_are_public(site):
    landing = get(site, "/ogc/", None)
    assert landing.status_code == 200 and landing.mimetype == "application/json"
    rels = {link["rel"]: link["href"] for link in landing.get_json()["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    conf = get(site, "/ogc/conformance", None).get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conf
    api = get(site, "/ogc/api", None)
    assert api.mimetype == "application/vnd.oai.openapi+json"
    doc = api.get_json()
    assert doc["openapi"].startswith("3.0")
    params = {p["name"] for p in doc["paths"]["/collections/grids2/items"]["get"]["parameters"]}
    assert {"bbox", "limit", "offset", "crs", "bbox-crs", "version", "parent", "kind"} <= params
    inc = {p["name"] for p in doc["paths"]["/collections/incidents/items"]["get"]["parameters"]}
    assert "datetime" in inc and "version" not in inc


def test_the_collections_need_a_caller(site):
    resp = get(site, "/ogc/collections", None)
    assert resp.status_code == 401 and resp.get_json()["code"] == "Unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    page = get(site, "/ogc/collections/grids2/items", None, Accept="text/html")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    bad = site.client().get("/ogc/collections", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_the_collections_and_their_extent(site):
    body = get(site, "/ogc/collections").get_json()
    assert [c["id"] for c in body["collections"]] == [
        "district", "grids1", "grids2", "units", "incidents"
    ]  # fmt: skip
    grids2 = get(site, "/ogc/collections/grids2").get_json()
    assert grids2["itemType"] == "feature" and grids2["storageCrs"] == CRS84
    assert EPSG + "4549" in grids2["crs"] and grids2["version"] == 1
    w, s, e, n = grids2["extent"]["spatial"]["bbox"][0]
    assert (w, s, e, n) == tuple(SAMPLE.territory().bounds)
    assert {"items", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= {
        link["rel"] for link in grids2["links"]
    }
    q = get(site, "/ogc/collections/units/queryables")
    assert q.mimetype == "application/schema+json"
    assert set(q.get_json()["properties"]) == {"code", "name", "category", "grid"}


def test_paging_through_the_links_gives_every_feature_once(site):
    for name, frame in (("grids2", SAMPLE.grids2), ("units", SAMPLE.units)):
        feats, pages, matched = follow(site, f"/ogc/collections/{name}/items?limit=500")
        assert matched == len(frame) and pages == -(-len(frame) // 500)
        assert [f["id"] for f in feats] == list(frame["code"])
    one, pages, _ = follow(site, "/ogc/collections/district/items")
    assert pages == 1 and one[0]["id"] == SAMPLE.code
    assert shape(one[0]["geometry"]).equals(SAMPLE.territory())
    # the geometry is the stored one, coordinate for coordinate
    feats, _, _ = follow(site, "/ogc/collections/grids1/items?limit=50")
    for f, geom in zip(feats, SAMPLE.grids1.geometry, strict=True):
        assert shapely.equals_exact(shape(f["geometry"]), geom, tolerance=0)


def test_a_box_selects_what_touches_it(site):
    box = shapely.box(*BOX)
    for name, frame in (("grids2", SAMPLE.grids2), ("units", SAMPLE.units)):
        want = list(frame.loc[frame.geometry.intersects(box), "code"])
        bbox = ",".join(map(str, BOX))
        feats, _, matched = follow(site, f"/ogc/collections/{name}/items?limit=1000&bbox={bbox}")
        assert [f["id"] for f in feats] == want and matched == len(want) > 3
        # the same box given in EPSG:4549 (northing first) encloses it: at least those
        from geogrid.crs import to_metric

        (x0, x1), (y0, y1) = to_metric([BOX[0], BOX[2]], [BOX[1], BOX[3]])
        metric = f"{min(y0, y1)},{min(x0, x1)},{max(y0, y1)},{max(x0, x1)}"
        path = f"/ogc/collections/{name}/items?limit=1000&bbox={metric}&bbox-crs={EPSG}4549"
        got = {f["id"] for f in follow(site, path)[0]}
        assert set(want) <= got and len(got) <= len(want) * 1.5


def test_coordinates_in_each_crs_follow_its_axis_order(site):
    code = WORKER_GRID
    geom = SAMPLE.grid2(code).geometry
    x, y = geom.exterior.coords[0]
    for crs, check in (
        ("OGC/1.3/CRS84", lambda c: c == [x, y]),
        ("EPSG/0/4326", lambda c: c == [y, x]),  # latitude first
        ("EPSG/0/4490", lambda c: c == [y, x]),
        ("EPSG/0/4549", lambda c: [round(v, 7) for v in from_metric(c[1], c[0])] == [x, y]),
    ):
        uri = "http://www.opengis.net/def/crs/" + crs
        resp = get(site, f"/ogc/collections/grids2/items/{code}?crs={uri}")
        assert resp.status_code == 200 and resp.headers["Content-Crs"] == f"<{uri}>"
        first = resp.get_json()["geometry"]["coordinates"][0][0]
        assert check(first), (crs, first)
    bad = get(site, "/ogc/collections/grids2/items?crs=EPSG:4549")
    assert bad.status_code == 400 and "crs: one of" in bad.get_json()["description"]


def test_property_filters(site):
    community = SAMPLE.grids1["code"].iloc[3]
    feats, _, matched = follow(site, f"/ogc/collections/grids2/items?limit=200&parent={community}")
    assert matched == int((SAMPLE.grids2["parent"] == community).sum()) > 0
    assert {f["properties"]["parent"] for f in feats} == {community}
    units = follow(site, f"/ogc/collections/units/items?limit=2000&grid={WORKER_GRID}")[0]
    assert {f["properties"]["grid"] for f in units} == {WORKER_GRID}
    none = get(site, "/ogc/collections/grids2/items?kind=nothing-like-this").get_json()
    assert none["numberMatched"] == 0 and none["features"] == []


def test_bad_parameters_get_the_exception_document(site):
    for path, words in (
        ("/ogc/collections/grids2/items?limit=0", "limit"),
        ("/ogc/collections/grids2/items?offset=-1", "offset"),
        ("/ogc/collections/grids2/items?bbox=1,2,3", "bbox"),
        ("/ogc/collections/grids2/items?bbox=119,32,118,33", "lower corner"),
        ("/ogc/collections/grids2/items?colour=red", "unknown parameter 'colour'"),
        ("/ogc/collections/grids2/items?datetime=2026-01-01", "unknown parameter 'datetime'"),
        ("/ogc/collections/incidents/items?datetime=yesterday", "datetime"),
        ("/ogc/collections/incidents/items?version=1", "unknown parameter 'version'"),
        ("/ogc/collections/grids2/items?limit=5&limit=6", "limit: given 2 times"),
        ("/ogc/collections/grids2/items?f=xml", "f: json or html"),
        ("/ogc/collections/grids2/items?version=99", "99"),
    ):
        resp = get(site, path)
        body = resp.get_json()
        assert resp.status_code in (400, 404), (path, resp.status_code)
        assert words in body["description"], (path, body)
        assert body["code"] in ("InvalidParameterValue", "NotFound")
    assert get(site, "/ogc/collections/nope/items").status_code == 404
    assert get(site, "/ogc/collections/grids2/items/999").get_json()["code"] == "NotFound"
    # a limit above the maximum is the maximum, not an error (the standard)
    assert (
        get(site, "/ogc/collections/units/items?limit=99999").get_json()["numberReturned"] == 1786
    )


def test_a_worker_reads_the_boundaries_and_their_own_units(site):
    grids = get(site, "/ogc/collections/grids2/items?limit=1", "worker").get_json()
    assert grids["numberMatched"] == 156  # the map's base is everyone's
    units = follow(site, "/ogc/collections/units/items?limit=1000", "worker")[0]
    want = SAMPLE.units.loc[SAMPLE.units["grid"] == WORKER_GRID, "code"]
    assert [f["id"] for f in units] == list(want)
    other = SAMPLE.units.loc[SAMPLE.units["grid"] != WORKER_GRID, "code"].iloc[0]
    assert get(site, f"/ogc/collections/units/items/{other}", "worker").status_code == 403


def test_versions(make_site):
    site = make_site()
    publish_merge(site.service)
    now = {f["id"] for f in follow(site, "/ogc/collections/grids2/items?limit=500")[0]}
    old = {f["id"] for f in follow(site, "/ogc/collections/grids2/items?limit=500&version=1")[0]}
    assert GONE in old and GONE not in now and KEEP in now and len(old) == len(now) + 1
    merged = get(site, f"/ogc/collections/grids2/items/{KEEP}").get_json()["geometry"]
    before = get(site, f"/ogc/collections/grids2/items/{KEEP}?version=1").get_json()["geometry"]
    assert shape(merged).area > shape(before).area
    assert get(site, "/ogc/collections/grids2?version=1").get_json()["version"] == 1
    # every link of an old version's page keeps asking for it
    body = get(site, "/ogc/collections/grids2/items?limit=100&version=1").get_json()
    nxt = next(link["href"] for link in body["links"] if link["rel"] == "next")
    assert "version=1" in nxt


def _report(site, x, y, category="0601"):
    resp = site.client().post(
        "/api/v1/incidents",
        json={"x": x, "y": y, "category": category, "description": "OGC 测试"},
        headers=site.headers("dispatcher"),
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


@pytest.mark.parametrize("backend", ["sqlite", "postgis"])
def test_open_incidents(backend, make_site):
    site = make_site(backend)
    worker_xy = SAMPLE.grid2(WORKER_GRID).geometry.representative_point()
    mine = _report(site, worker_xy.x, worker_xy.y)
    elsewhere = _report(site, 118.90, 32.09)
    closed = _report(site, 118.95, 32.12)
    resp = site.client().post(
        f"/api/v1/incidents/{closed}/actions",
        json={"action": "cancel", "note": "重复"},
        headers=site.headers("dispatcher"),
    )
    assert resp.status_code == 200, resp.get_json()
    feats, _, matched = follow(site, "/ogc/collections/incidents/items?limit=100")
    assert sorted(f["id"] for f in feats) == sorted([mine, elsewhere]) and matched == 2
    props = feats[0]["properties"]
    assert {"state", "category", "grid_code", "created_at", "overdue"} <= set(props)
    assert "reporter" not in props and "reporter_contact" not in props
    assert feats[0]["geometry"]["type"] == "Point"
    # a grid worker sees their grid's only
    theirs = follow(site, "/ogc/collections/incidents/items", "worker")[0]
    assert [f["id"] for f in theirs] == [mine]
    assert get(site, f"/ogc/collections/incidents/items/{elsewhere}", "worker").status_code == 404
    # time: everything was reported today
    created = props["created_at"]
    assert follow(site, f"/ogc/collections/incidents/items?datetime={created}/..")[2] >= 1
    assert follow(site, "/ogc/collections/incidents/items?datetime=../2020-01-01T00:00:00Z")[2] == 0
    assert follow(site, f"/ogc/collections/incidents/items?grid_code={WORKER_GRID}")[2] == 1
    assert follow(site, "/ogc/collections/incidents/items?state=cancelled")[2] == 0
    coll = get(site, "/ogc/collections/incidents").get_json()
    assert coll["extent"]["temporal"]["interval"][0][0] is not None


def test_the_pages(site, login):
    client = site.client()
    login(client, "planner")
    landing = client.get("/ogc/", headers={"Accept": "text/html"})
    assert landing.status_code == 200 and "QGIS" in landing.get_data(as_text=True)
    items = client.get("/ogc/collections/grids2/items?f=html&limit=5").get_data(as_text=True)
    assert 'id="ogc-map"' in items and 'id="ogc-data"' in items
    assert items.count("<tr>") == 6  # a header and five features
    one = client.get(f"/ogc/collections/grids2/items/{WORKER_GRID}?f=html").get_data(as_text=True)
    assert WORKER_GRID in one
    docs = client.get("/ogc/api?f=html").get_data(as_text=True)
    assert "/ogc/api?f=json" in docs
    for path in ("/ogc/collections?f=html", "/ogc/collections/units?f=html",
                 "/ogc/collections/units/queryables?f=html", "/ogc/conformance?f=html"):  # fmt: skip
        assert client.get(path).status_code == 200, path
    missing = client.get("/ogc/collections/grids2/items/nope?f=html")
    assert missing.status_code == 404 and "<html" in missing.get_data(as_text=True)


def test_every_role_reads_the_collections_with_a_token_or_a_session(site, login):
    for role in ROLES:
        body = get(site, "/ogc/collections", role).get_json()
        assert [c["id"] for c in body["collections"]][:4] == [
            "district",
            "grids1",
            "grids2",
            "units",
        ]
        client = login(site.client(), role)
        resp = client.get("/ogc/collections/grids2/items?limit=1")
        assert resp.status_code == 200 and resp.get_json()["numberMatched"] == 156


def test_the_api_definition_is_valid_openapi(site):
    from openapi_spec_validator import validate

    validate(get(site, "/ogc/api", None).get_json())


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_schemathesis(make_site, mode):
    """Requests generated from /ogc/api for every operation: never a 5xx; valid ones get a
    documented status and media type. (Driven by hand, as in test_api.py.)"""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

    site = make_site("sqlite")
    schema = schemathesis.openapi.from_wsgi("/ogc/api?f=json", site.app)
    checks = [not_a_server_error]
    if mode == "positive":
        checks += [status_code_conformance, content_type_conformance]
    generation = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @settings(max_examples=15, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=operation.as_strategy(generation_mode=generation))
        def run(case):
            headers = {**site.headers("admin"), "Accept-Encoding": "identity"}
            case.validate_response(case.call(headers=headers), checks=checks)

        try:
            run()
        except Exception as exc:
            raise AssertionError(f"{operation.method.upper()} {operation.path}: {exc}") from exc
