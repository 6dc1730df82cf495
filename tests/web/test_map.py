"""The map page (folium embedded in our template, everything served by the app) and the search
endpoint, through the Flask test client. The browser tests are in ``tests/web/browser``."""

from __future__ import annotations

import copy
import gzip
import json
import re
from html.parser import HTMLParser

import pytest

from geogrid import crs as C
from geogrid.display import nested_layers
from geogrid.model import District, default_data_dir
from geogrid.service import seed
from web import maps

XSS_UNIT = "<img src=x onerror=alert(1)>"
XSS_GRID = "<img src=x onerror=alert(2)>网格"
XSS_GRID_CODE = "320113005003001"


def xss_district() -> District:
    """The sample with a unit and a second-level grid whose names are HTML."""
    d = copy.copy(District.load(default_data_dir()))
    d.units = d.units.copy()
    d.units.loc[0, "name"] = XSS_UNIT
    d.grids2 = d.grids2.copy()
    d.grids2.loc[d.grids2["code"] == XSS_GRID_CODE, "name"] = XSS_GRID
    return d


@pytest.fixture(scope="module")
def xss_site(make_site):
    site = make_site("sqlite")
    seed(site.store, xss_district(), actor="tests")
    wait_for_version(site, 2)
    return site


def wait_for_version(site, number: int) -> None:
    """Until the app's service answers from version ``number`` (it watches the database)."""
    site.wait_for(lambda: site.service.current()[0].number == number, what=f"version {number}")


class _Assets(HTMLParser):
    """Every script src and stylesheet/link href of a page."""

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(("script", a["src"]))
        if tag == "link" and a.get("href"):
            self.urls.append(("link", a["href"]))


def assets_of(html: str) -> list[tuple[str, str]]:
    p = _Assets()
    p.feed(html)
    return p.urls


def page(site, login, role="dispatcher", lang=None):
    client = login(site.client(), role)
    if lang:
        client.get(f"/lang/{lang}")
    resp = client.get("/")
    assert resp.status_code == 200, resp.status_code
    return client, resp.get_data(as_text=True)


def config_of(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="geogrid-config">(.*?)</script>', html, re.S)
    assert m, "no map configuration in the page"
    return json.loads(m.group(1))


# ---------------------------------------------------------------------------- the page
def test_map_needs_login(client):
    resp = client.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


@pytest.mark.parametrize("role", ["dispatcher", "planner", "worker", "admin"])
def test_every_role_gets_the_map(site, login, role):
    _, html = page(site, login, role)
    assert 'class="folium-map"' in html and "window.geogridLayers" in html


def test_everything_loads_from_the_app(site, login):
    client, html = page(site, login)
    urls = assets_of(html)
    assert ("script", "/vendor/leaflet/leaflet.js") in urls
    assert ("script", "/vendor/markercluster/leaflet.markercluster.js") in urls
    assert ("link", "/vendor/leaflet/leaflet.css") in urls
    assert ("script", "/static/map.js") in urls and ("link", "/static/map.css") in urls
    for kind, url in urls:
        assert url.startswith("/") and not url.startswith("//"), (kind, url)
        resp = client.get(url)
        assert resp.status_code == 200, url
        resp.close()
    # folium's other defaults are gone
    for lib in ("jquery", "bootstrap", "awesome-markers", "awesome_markers", "font-awesome"):
        assert lib not in html.lower(), lib
    # the only absolute URLs are tile templates and their attribution links
    allowed = (
        maps.OSM_TILES,
        "https://www.openstreetmap.org/copyright",
        maps.AMAP_TILES,
    )
    found = re.findall(r"https?://[^\s\"'<>\\]+", html)
    assert found, "expected the tile templates"
    for url in found:
        assert any(url.startswith(a.split("{")[0]) for a in allowed), url
    assert "tianditu" not in html  # no key, no Tianditu


def test_tianditu_only_with_a_key(make_site, login):
    site = make_site("sqlite", TIANDITU_KEY="k3y-for-tests")
    _, html = page(site, login)
    assert "tianditu.gov.cn/vec_w/wmts" in html and "tianditu.gov.cn/cva_w/wmts" in html
    assert "tk=k3y-for-tests" in html
    assert "tianditu" in config_of(html)["names"]["bases"]


def test_page_configuration(site, login):
    _, html = page(site, login)
    cfg = config_of(html)
    assert set(cfg["names"]) >= {
        "map",
        "grid1",
        "grid2",
        "outline",
        "units",
        "incidents",
        "control",
        "bases",
    }
    assert set(cfg["names"]["bases"]) == {"none", "osm", "amap"}
    for name in [*cfg["names"].values(), *cfg["names"]["bases"].values()]:
        if isinstance(name, str):
            assert re.fullmatch(r"[a-z_]+_[0-9a-f]{32}", name), name
            assert f"var {name} = " in html or f"let {name} = " in html
    assert cfg["api"] == {
        "locate": "/api/v1/locate",
        "grids": "/api/v1/grids",
        "grid": "/api/v1/grids/CODE",
        "units": "/api/v1/units",
        "search": "/api/v1/search",
        "incidents": "/api/v1/incidents",
        "events": "/api/v1/events",
    }
    # the open incidents, coloured by state; only those who may report get the intake link
    assert cfg["open_states"] == [
        "reported",
        "dispatched",
        "handling",
        "escalated",
        "resolved",
        "revisited",
    ]
    assert set(cfg["states"]) >= set(cfg["open_states"]) and cfg["may_report"] is True
    labels = cfg["labels"]["grid1"]
    assert len(labels["codes"]) == len(labels["wgs84"]) == len(labels["gcj02"]) == 10
    lat, lon = labels["wgs84"][0]
    glat, glon = labels["gcj02"][0]
    assert (round(glon, 6), round(glat, 6)) == tuple(
        round(v, 6) for v in C.from_wgs84(lon, lat, "gcj02")
    )
    assert set(cfg["categories"]) == {
        "高校",
        "住宅小区",
        "商业街区",
        "中小学幼儿园",
        "医疗机构",
        "机关事业单位",
        "企业",
        "商铺",
        "宾馆酒店",
        "社会组织",
    }
    assert cfg["strings"]["grid2"] and cfg["strings"]["kinds"]["unit"]
    # "none" is the base layer shown: the grids draw without tiles
    bases = cfg["names"]["bases"]
    assert f"{bases['none']}.addTo(" in html
    assert f"{bases['osm']}.addTo(" not in html and f"{bases['amap']}.addTo(" not in html


def test_english_strings(site, login):
    _, html = page(site, login, lang="en")
    cfg = config_of(html)
    assert cfg["lang"] == "en"
    assert cfg["strings"]["grid2"] == "Second-level grid"
    assert cfg["categories"]["高校"]["label"] == "University"
    assert '<html lang="en">' in html


def test_grids_embedded_simplified_and_nested(site):
    district = site.service.current()[1].district
    outline, g1, g2 = nested_layers(district, "wgs84", maps.SIMPLIFY_M, maps.DECIMALS)
    assert len(g2) == 156 and len(g1) == 10
    import shapely

    full = int(shapely.get_num_coordinates(district.grids2.geometry.values).sum())
    light = int(shapely.get_num_coordinates(g2).sum())
    assert light < full / 2  # simplified for display
    assert bool(shapely.coverage_is_valid(g2))
    # first-level grids are unions of the displayed second-level ones: they nest exactly
    for code, geom in zip(district.grids1["code"], g1, strict=True):
        members = g2[(district.grids2["parent"] == code).to_numpy()]
        assert shapely.equals(geom, shapely.union_all(members))
    # and stay close to the real boundaries (2 m tolerance)
    real = district.grids1.geometry.values
    for a, b in zip(real, g1, strict=True):
        assert shapely.hausdorff_distance(a, b) < 4e-5  # degrees, about 4 m


def test_page_weight_is_modest(site, login):
    client, html = page(site, login)
    assert len(html.encode()) < 400_000, len(html.encode())
    resp = client.get("/", headers={"Accept-Encoding": "gzip, deflate"})
    assert resp.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in resp.headers["Vary"]
    assert len(resp.data) < 100_000, len(resp.data)
    unzipped = gzip.decompress(resp.data).decode()
    assert config_of(unzipped)["names"] == config_of(html)["names"]
    assert resp.headers["Cache-Control"] == "private, no-store"


def test_scripts_and_styles_are_gzipped_and_revalidated(site, login):
    """Leaflet, its plugin and the app's own files travel gzipped (isolated networks are often
    slow), each variant with its own ETag, so a revisit is answered 304 either way."""
    client, html = page(site, login)
    for _, url in assets_of(html):
        plain = client.get(url)
        body = plain.get_data()
        plain.close()  # the file let go
        zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert plain.status_code == zipped.status_code == 200, url
        if len(body) < 1400:  # not worth compressing
            zipped.close()
            assert "Content-Encoding" not in zipped.headers, url
            continue
        assert zipped.headers["Content-Encoding"] == "gzip", url
        assert "Accept-Encoding" in zipped.headers["Vary"]
        assert gzip.decompress(zipped.data) == body, url
        assert len(zipped.data) < len(body) / 2, url
        assert zipped.headers["ETag"] != plain.headers["ETag"]
        for resp, encoding in ((zipped, {"Accept-Encoding": "gzip"}), (plain, {})):
            again = client.get(url, headers={**encoding, "If-None-Match": resp.headers["ETag"]})
            assert again.status_code == 304 and not again.get_data(), url
            again.close()
    # files that are not text are sent as they are
    icon = client.get("/vendor/leaflet/images/marker-icon.png", headers={"Accept-Encoding": "gzip"})
    icon.close()
    assert icon.status_code == 200 and "Content-Encoding" not in icon.headers


def test_map_parts_are_cached_per_version(xss_site, login):
    _, first = page(xss_site, login)
    _, again = page(xss_site, login)
    assert config_of(first)["names"] == config_of(again)["names"]  # same rendering, cached
    assert config_of(first)["version"] == 2
    seed(xss_site.store, District.load(default_data_dir()), actor="tests")
    wait_for_version(xss_site, 3)
    _, third = page(xss_site, login)
    assert config_of(third)["version"] == 3
    assert config_of(third)["names"] != config_of(first)["names"]
    seed(xss_site.store, xss_district(), actor="tests")  # back to the XSS names
    wait_for_version(xss_site, 4)


# ---------------------------------------------------------------------------- escaping
def test_grid_names_are_escaped_for_folium_tooltips(xss_site, login):
    _, html = page(xss_site, login)
    assert "<img" not in html
    assert XSS_GRID not in html
    # in the embedded data (JSON with <, >, & as \\u escapes): the escaped HTML
    assert "\\u0026lt;img src=x onerror=alert(2)\\u0026gt;" in html
    district = xss_site.service.current()[1].district
    _, g1, g2 = nested_layers(district, "wgs84", maps.SIMPLIFY_M, maps.DECIMALS)
    feats = maps._grid_features(district, g2, g1)[0]
    props = next(f["properties"] for f in feats if f["id"] == XSS_GRID_CODE)
    assert props["n"] == "&lt;img src=x onerror=alert(2)&gt;网格"


# ---------------------------------------------------------------------------- search API
def test_search_finds_by_pinyin_initials(site, tokens):
    resp = site.client().get("/api/v1/search?q=xhsq", headers=site.headers("dispatcher"))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["query"] == "xhsq" and body["version"] == 1 and body["display_crs"] == "wgs84"
    first = body["results"][0]
    assert (first["kind"], first["code"], first["name"]) == ("grid1", "320113005001", "仙鹤社区")
    assert len(first["bbox"]) == 4 and first["match"] == "exact"
    assert len(body["results"]) == 10


def test_search_with_the_session(site, login):
    client = login(site.client(), "worker")
    resp = client.get("/api/v1/search?q=320113005007007&limit=1")
    assert resp.status_code == 200
    (hit,) = resp.get_json()["results"]
    assert hit["kind"] == "grid2" and hit["name"] == "东阳社区第07网格"


def test_search_needs_authentication(client):
    resp = client.get("/api/v1/search?q=xhsq")
    assert resp.status_code == 401 and resp.get_json()["error"]["status"] == 401


@pytest.mark.parametrize(
    "query, message",
    [
        ("", "missing query parameter q"),
        ("q=%20%20", "missing query parameter q"),
        ("q=a&limit=0", "limit must be between 1 and 50"),
        ("q=a&limit=51", "limit must be between 1 and 50"),
        ("q=a&limit=ten", "limit must be a whole number"),
        ("q=" + "x" * 101, "q is limited to 100 characters"),
        ("q=a&crs=EPSG:4549", "crs must be one of"),
        ("q=a&crs=mars", ""),
    ],
)
def test_search_rejects_bad_input(site, query, message):
    resp = site.client().get(f"/api/v1/search?{query}", headers=site.headers("dispatcher"))
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert message in resp.get_json()["error"]["message"]


def test_search_in_gcj02_for_amap(site):
    h = site.headers("planner")
    wgs = site.client().get("/api/v1/search?q=xhsq&limit=1", headers=h).get_json()
    gcj = site.client().get("/api/v1/search?q=xhsq&limit=1&crs=gcj02", headers=h).get_json()
    a, b = wgs["results"][0], gcj["results"][0]
    assert gcj["display_crs"] == "gcj02"
    lon, lat = C.from_wgs84(a["lon"], a["lat"], "gcj02")
    assert (b["lon"], b["lat"]) == pytest.approx((lon, lat), abs=1e-7)
    assert b["bbox"][0] == pytest.approx(C.from_wgs84(a["bbox"][0], a["bbox"][1], "gcj02")[0])


def test_search_escapes_nothing_itself(xss_site):
    resp = xss_site.client().get("/api/v1/search?q=%3Cimg", headers=xss_site.headers("dispatcher"))
    names = [h["name"] for h in resp.get_json()["results"]]
    assert XSS_UNIT in names and XSS_GRID in names  # JSON carries data; the page escapes it
    assert resp.mimetype == "application/json"


def test_search_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/api/v1/search"]["get"]
    assert op["tags"] == ["search"]
    assert {p.get("name") or p.get("$ref") for p in op["parameters"]} >= {"q", "limit"}
    assert "SearchAnswer" in doc["components"]["schemas"]
    assert "SearchHit" in doc["components"]["schemas"]


@pytest.mark.parametrize(
    "role, may", [("dispatcher", True), ("admin", True), ("worker", False), ("planner", False)]
)
def test_only_those_who_report_get_the_new_incident_link(site, login, role, may):
    _, html = page(site, login, role)
    assert config_of(html)["may_report"] is may


def exclave_district() -> District:
    """The sample where grid 320113005001001 also owns a 40 m square cut out of the middle of
    320113005001009, a grid of the same community it does not touch: an exclave (飞地)."""
    import shapely

    d = copy.copy(District.load(default_data_dir()))
    g2 = d.grids2 = d.grids2.copy()
    a, b = (g2.index[g2["code"] == c][0] for c in (EXCLAVE_OWNER, EXCLAVE_HOST))
    assert not g2.geometry[a].intersects(g2.geometry[b])
    x, y = shapely.get_coordinates(shapely.point_on_surface(g2.geometry[b]))[0]
    r = 0.0002  # about 20 m
    square = shapely.box(round(x - r, 7), round(y - r, 7), round(x + r, 7), round(y + r, 7))
    assert g2.geometry[b].contains(square.buffer(r))
    assert not d.units.geometry.intersects(square.buffer(r)).any()  # no unit changes grid
    g2.loc[b, "geometry"] = g2.geometry[b].difference(square)
    g2.loc[a, "geometry"] = shapely.MultiPolygon([g2.geometry[a], square])
    return d


EXCLAVE_OWNER, EXCLAVE_HOST = "320113005001001", "320113005001009"


def test_an_exclave_is_stored_located_and_drawn(make_site, login):
    """A grid in two parts is stored with a notice (exclaves are allowed by default), a point
    in the far part belongs to it, and the map and the API draw both parts."""
    import shapely

    from geogrid.validate import validate

    site = make_site("sqlite")
    district = exclave_district()
    report = validate(district)
    before = {(f.check, f.codes) for f in validate(District.load(default_data_dir())).notices}
    assert report.ok
    assert {(f.check, f.codes) for f in report.notices} - before == {
        ("multipart", (EXCLAVE_OWNER,))
    }
    seed(site.store, district, actor="tests")
    wait_for_version(site, 2)
    square = shapely.get_parts(district.grid2(EXCLAVE_OWNER).geometry)[1]
    x, y = shapely.get_coordinates(square.centroid)[0]
    headers = {"Authorization": f"Bearer {site.tokens['dispatcher']}"}
    client = site.client()
    answer = client.get(f"/api/v1/locate?x={x}&y={y}", headers=headers).get_json()
    assert answer["grid2"]["code"] == EXCLAVE_OWNER and answer["match"] == "interior"
    feature = client.get(f"/api/v1/grids/{EXCLAVE_OWNER}", headers=headers).get_json()
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert len(feature["geometry"]["coordinates"]) == 2
    host = client.get(f"/api/v1/grids/{EXCLAVE_HOST}", headers=headers).get_json()
    assert host["geometry"]["type"] == "Polygon" and len(host["geometry"]["coordinates"]) == 2
    _, html = page(site, login)
    assert html.count('"MultiPolygon"') >= 1
