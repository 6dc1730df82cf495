"""The dispatcher's map in headless Chromium: it draws without tiles, clicks and coordinates find
the right grid and people, search flies to a unit, HTML in data stays text, the English switch,
and AMap's GCJ-02 overlays. Fixtures and the live app: ``conftest.py`` here."""

from __future__ import annotations

import math

import pytest
import shapely
from browser_support import XSS_GRID, XSS_GRID_CODE, XSS_UNIT, XSS_UNIT_CODE, login
from flask_babel import force_locale, gettext

from geogrid import crs as C
from geogrid.search import SearchIndex, pinyin_variants

HIGHLIGHT_COLOUR = "#084f96"  # map.js: the selected second-level grid's outline


# ---------------------------------------------------------------------------- helpers
def pixel(page, lat: float, lon: float) -> tuple[float, float]:
    """Where a map coordinate (in the map's current display system) is on the page."""
    return tuple(
        page.evaluate(
            """([lat, lon]) => {
                const p = geogridMap.latLngToContainerPoint([lat, lon]);
                const r = geogridMap.getContainer().getBoundingClientRect();
                return [p.x + r.left, p.y + r.top];
            }""",
            [lat, lon],
        )
    )


def hide_units(page, layers=("units", "incidents")):
    """Untick the units' and the incidents' overlays in the layer control (their markers and
    clusters would take the click)."""
    for layer in layers:
        page.evaluate(
            """(layer) => {
                const id = L.stamp(geogridLayers[layer]);
                const box = [...document.querySelectorAll('.leaflet-control-layers-overlays input')]
                    .find((i) => i.layerId === id);
                if (box.checked) box.click();
            }""",
            layer,
        )
        assert not page.evaluate("(layer) => geogridMap.hasLayer(geogridLayers[layer])", layer)


def choose_base(page, role: str):
    page.evaluate(
        """(role) => {
            const id = L.stamp(geogridLayers.bases[role]);
            [...document.querySelectorAll('.leaflet-control-layers-base input')]
                .find((i) => i.layerId === id).click();
        }""",
        role,
    )


def wait_for_grid(page, code: str):
    page.wait_for_function(
        "(code) => { const c = document.querySelector('#result .grid2-card .card-code');"
        " return c && c.textContent === code; }",
        arg=code,
    )


def a_unit(live, grid="320113005007007"):
    units = live.district.units
    row = units[(units["grid"] == grid) & (units["code"] != XSS_UNIT_CODE)].iloc[0]
    return row, float(row.geometry.x), float(row.geometry.y)


def metres_between(lon1, lat1, lon2, lat2) -> float:
    return float(C.distance_m(lon1, lat1, lon2, lat2))


# ---------------------------------------------------------------------------- tests
def test_map_draws_without_tiles(page, live):
    login(page, live)
    counts = page.evaluate(
        """() => ({
            grid2: geogridLayers.grid2.getLayers().length,
            grid1: geogridLayers.grid1.getLayers().length,
            paths: document.querySelectorAll('.leaflet-overlay-pane path').length,
            tiles: document.querySelectorAll('.leaflet-tile').length,
            none: geogridMap.hasLayer(geogridLayers.bases.none),
            units: geogridLayers.units.getLayers().length,
            labels: document.querySelectorAll('.grid1-label').length,
        })"""
    )
    assert counts["grid2"] == 156 and counts["grid1"] == 10
    assert counts["paths"] >= 156 + 10 + 1
    assert counts["tiles"] == 0 and counts["none"] is True
    assert counts["units"] == len(live.district.units) == 1787
    assert counts["labels"] == 10
    assert "1,787" in page.text_content(".legend-count")


def test_the_whole_district_is_in_view_beside_the_layer_control(page, live):
    login(page, live)  # 1600 x 900: the layer control is open in the top-right corner
    boxes = page.evaluate(
        """() => {
            const r = (el) => { const b = el.getBoundingClientRect();
                return [b.left, b.top, b.right, b.bottom]; };
            return { district: r(geogridLayers.outline.getLayers()[0].getElement()),
                     map: r(geogridMap.getContainer()),
                     control: r(geogridLayers.control.getContainer()) };
        }"""
    )
    d, m, c = boxes["district"], boxes["map"], boxes["control"]
    assert m[0] <= d[0] and m[1] <= d[1] and d[2] <= m[2] and d[3] <= m[3]  # all of it shows
    assert d[2] <= c[0] + 2  # and none of it is under the control
    assert (d[2] - d[0]) > 0.7 * (c[0] - m[0])  # while filling the room beside it


def test_click_shows_the_grid_and_its_people(page, live):
    login(page, live)
    _, lon, lat = a_unit(live)
    expected = live.site.service.locate(lon, lat)
    hide_units(page)
    page.mouse.click(*pixel(page, lat, lon))
    code = expected.grid2.code
    wait_for_grid(page, code)
    panel = page.text_content("#result")
    assert expected.grid2.name in panel
    assert expected.grid2.people["worker"] in panel
    assert expected.grid2.people["worker_phone"] in panel
    assert expected.grid1.code in panel and expected.grid1.name in panel
    assert expected.grid1.people["leader"] in panel and expected.grid1.people["office"] in panel
    assert page.locator("#result .unit-list li").count() == 5
    # the owning grids are highlighted on the map
    styles = page.evaluate(
        """([g2, g1]) => {
            const find = (group, c) => group.getLayers().find((l) => l.feature.id === c);
            return [find(geogridLayers.grid2, g2).options.color,
                    find(geogridLayers.grid1, g1).options.weight,
                    geogridLayers.grid1.getLayers().filter((l) => l.options.weight === 5).length];
        }""",
        [code, expected.grid1.code],
    )
    assert styles == [HIGHLIGHT_COLOUR, 5, 1]
    assert page.locator(".gg-pin").count() == 1


def test_click_near_a_boundary_asks_to_confirm(page, live):
    login(page, live)
    hide_units(page)
    district = live.district
    g = district.grid2("320113005007007").geometry
    edge = shapely.shortest_line(g.exterior, g.centroid).coords[0]  # a point on the edge
    inside = shapely.line_interpolate_point(
        shapely.LineString([edge, g.centroid.coords[0]]), 0.00005
    )  # a few metres inside
    ans = live.site.service.locate(inside.x, inside.y)
    assert ans.needs_confirmation
    page.evaluate(
        "([lat, lon]) => { geogridMap.setView([lat, lon], 18, {animate: false}); }",
        [inside.y, inside.x],
    )
    page.mouse.click(*pixel(page, inside.y, inside.x))
    wait_for_grid(page, ans.grid2.code)
    warn = page.locator("#result .alert.warn")
    assert warn.count() == 1
    for cand in ans.candidates:
        assert cand.grid.code in warn.text_content()


def test_outside_the_district(page, live):
    login(page, live)
    page.fill("#coord-input", "118.80, 32.00")
    page.click("#coord-form button[type=submit]")
    page.wait_for_selector("#result .alert.outside")
    ans = live.site.service.locate(118.80, 32.00)
    assert ans.nearest is not None
    assert ans.nearest.grid.code in page.text_content("#result .alert.outside")
    assert page.locator("#result .grid2-card").count() == 0


def test_gcj02_coordinates_find_their_wgs84_twin(page, live):
    login(page, live)
    # a unit whose GCJ-02 coordinates, misread as WGS-84, fall in another grid
    units = live.district.units
    svc = live.site.service
    for _, row in units.iterrows():
        lon, lat = float(row.geometry.x), float(row.geometry.y)
        glon, glat = C.from_wgs84(lon, lat, "gcj02")
        right, wrong = svc.locate(lon, lat), svc.locate(glon, glat)
        if (
            right.grid2
            and not right.needs_confirmation
            and (wrong.grid2 is None or wrong.grid2.code != right.grid2.code)
        ):
            break
    code = right.grid2.code

    def locate(text, crs):
        page.fill("#coord-input", text)
        page.select_option("#coord-crs", crs)
        page.click("#coord-form button[type=submit]")

    locate(f"{lon}, {lat}", "wgs84")
    wait_for_grid(page, code)
    page.evaluate("document.querySelector('#result').replaceChildren()")
    locate(f"{glon:.8f}, {glat:.8f}", "gcj02")
    wait_for_grid(page, code)
    assert page.locator("#coord-error").is_hidden()
    blon, blat = C.from_wgs84(lon, lat, "bd09")
    page.evaluate("document.querySelector('#result').replaceChildren()")
    locate(f"{blon:.8f}，{blat:.8f}", "bd09")  # a Chinese comma is fine
    wait_for_grid(page, code)
    # the same numbers read as WGS-84 are another place
    locate(f"{glon:.8f} {glat:.8f}", "wgs84")
    page.wait_for_function(
        "(code) => { const c = document.querySelector('#result .grid2-card .card-code');"
        " return !c || c.textContent !== code; }",
        arg=code,
    )
    # the pin and the view went to the point
    center = page.evaluate("(() => { const c = geogridMap.getCenter(); return [c.lng, c.lat]; })()")
    page.wait_for_timeout(800)
    center = page.evaluate("(() => { const c = geogridMap.getCenter(); return [c.lng, c.lat]; })()")
    assert metres_between(center[0], center[1], glon, glat) < 5


@pytest.mark.parametrize(
    "text, says",
    [
        ("", "118.93, 32.11"),
        ("118.93", "118.93, 32.11"),
        ("abc, def", "118.93, 32.11"),
        ("32.11, 118.93", "118.93, 32.11"),  # latitude first: the message offers the swap
        ("200, 10", "180"),
    ],
)
def test_coordinate_errors_are_shown_inline(page, live, text, says):
    login(page, live)
    page.fill("#coord-input", text)
    page.click("#coord-form button[type=submit]")
    err = page.locator("#coord-error")
    err.wait_for(state="visible")
    assert says in err.text_content()
    assert page.get_attribute("#coord-input", "aria-invalid") == "true"
    page.fill("#coord-input", "118.93, 32.11")
    assert err.is_hidden()


def test_search_by_pinyin_initials_flies_to_the_unit(page, live):
    login(page, live)
    index = SearchIndex.from_district(live.district)
    units = live.district.units
    for _, row in units.iterrows():
        initials = pinyin_variants(row["name"])[0][0]
        hits = index.search(initials, limit=2)
        if len(initials) >= 4 and hits[0].code == row["code"] and len(hits) == 1:
            break
    else:  # pragma: no cover - the sample has many
        pytest.fail("no unit with unique pinyin initials")
    lon, lat = float(row.geometry.x), float(row.geometry.y)
    page.fill("#search-q", initials)
    page.wait_for_selector("#search-results .hit")
    assert page.text_content("#search-results .hit .hit-name") == row["name"]
    page.press("#search-q", "Enter")
    page.wait_for_function(
        "(name) => { const c = document.querySelector('#result .unit-card .card-name');"
        " return c && c.textContent === name; }",
        arg=row["name"],
    )
    page.wait_for_function("() => geogridMap.getZoom() >= 17")
    page.wait_for_timeout(900)  # the flight
    center = page.evaluate("(() => { const c = geogridMap.getCenter(); return [c.lng, c.lat]; })()")
    assert metres_between(center[0], center[1], lon, lat) < 10
    wait_for_grid(page, row["grid"])
    assert page.locator(".gg-pin").count() == 1
    assert page.is_hidden("#search-results")


def test_search_a_grid_highlights_it(page, live):
    login(page, live)
    page.fill("#search-q", "东阳社区第07网格")
    page.wait_for_selector("#search-results .hit")
    page.click("#search-results .hit >> nth=0")
    wait_for_grid(page, "320113005007007")
    colour = page.evaluate(
        "geogridLayers.grid2.getLayers().find((l) => l.feature.id === '320113005007007')"
        ".options.color"
    )
    assert colour == HIGHLIGHT_COLOUR
    page.fill("#search-q", "xhsq")
    page.wait_for_function(
        "() => { const h = document.querySelector('#search-results:not([hidden]) .hit-name');"
        " return h && h.textContent === '仙鹤社区'; }"
    )
    page.click("#search-results .hit >> nth=0")
    page.wait_for_selector("#result .grid1-card .phone")  # the leader's and office's phones
    assert "仙鹤社区" in page.text_content("#result .grid1-card")
    assert page.locator("#result .grid1-card .phone").count() == 2
    assert page.locator("#result .grid2-card").count() == 0
    assert (
        page.evaluate(
            "geogridLayers.grid1.getLayers().find((l) => l.feature.id === '320113005001')"
            ".options.weight"
        )
        == 5
    )


def test_html_in_data_stays_text(page_watch, live):
    page, watch = page_watch
    login(page, live)
    # search results
    page.fill("#search-q", "<img")
    page.wait_for_selector("#search-results .hit")
    names = page.locator("#search-results .hit-name").all_text_contents()
    assert XSS_UNIT in names and XSS_GRID in names
    assert page.locator("#search-results img").count() == 0
    # the panel
    idx = names.index(XSS_UNIT)
    page.click(f"#search-results .hit >> nth={idx}")
    page.wait_for_function(
        "(n) => { const c = document.querySelector('#result .unit-card .card-name');"
        " return c && c.textContent === n; }",
        arg=XSS_UNIT,
    )
    assert "<b>测试</b>" in page.text_content("#result .unit-card")
    assert page.locator("#result img, #result b").count() == 0
    # the unit's tooltip (at zoom 18 the units are not clustered)
    unit = live.district.units.set_index("code").loc[XSS_UNIT_CODE]
    page.evaluate(
        "([lat, lon]) => { geogridMap.setView([lat, lon], 18, {animate: false}); }",
        [unit.geometry.y, unit.geometry.x],
    )
    page.wait_for_timeout(300)
    page.mouse.move(*pixel(page, unit.geometry.y, unit.geometry.x))
    tip = page.locator(".leaflet-tooltip.unit-tooltip")
    tip.wait_for(state="visible")
    assert XSS_UNIT in tip.text_content()
    # the grid's folium tooltip
    hide_units(page)
    grid = live.district.grid2(XSS_GRID_CODE).geometry
    p = grid.representative_point()
    page.evaluate(
        "([lat, lon]) => { geogridMap.setView([lat, lon], 16, {animate: false}); }", [p.y, p.x]
    )
    page.wait_for_timeout(300)
    x, y = pixel(page, p.y, p.x)
    page.mouse.move(x, y)
    page.mouse.move(x + 2, y + 2)
    gtip = page.locator(".leaflet-tooltip.grid-tip")
    gtip.wait_for(state="visible")
    assert XSS_GRID in gtip.text_content()
    assert page.locator(".leaflet-tooltip-pane img").count() == 0
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert watch.dialogs == []


def test_english_switch_changes_the_panel(page, live):
    with live.site.app.test_request_context(), force_locale("zh"):
        zh_label = gettext("Second-level grid")
        zh_worker = gettext("Grid worker")
    login(page, live)
    assert page.get_attribute("html", "lang") == "zh-CN"
    _, lon, lat = a_unit(live)
    code = live.site.service.locate(lon, lat).grid2.code

    def panel_labels():
        hide_units(page)
        page.mouse.click(*pixel(page, lat, lon))
        wait_for_grid(page, code)
        return (
            page.text_content("#result .grid2-card .card-kind"),
            page.locator("#result .grid2-card dt").all_text_contents(),
        )

    kind, dts = panel_labels()
    assert kind == zh_label and zh_worker in dts
    page.click(".topbar .lang a")  # the other language: English
    page.wait_for_function("() => document.documentElement.dataset.geogridReady === '1'")
    assert page.get_attribute("html", "lang") == "en"
    kind, dts = panel_labels()
    assert kind == "Second-level grid" and "Grid worker" in dts
    assert page.get_attribute("#coord-input", "placeholder").startswith("Longitude, latitude")


def test_amap_shifts_the_overlays_to_gcj02(page_watch, live):
    page, watch = page_watch
    watch.allowed_hosts = ("autonavi.com",)  # AMap's tiles are requested (and blocked)
    login(page, live)
    _, lon, lat = a_unit(live)
    code = live.site.service.locate(lon, lat).grid2.code
    centre = (
        "(code) => { const l = geogridLayers.grid2.getLayers()"
        ".find((l) => l.feature.id === code); const c = l.getBounds().getCenter();"
        " return [c.lng, c.lat]; }"
    )
    before = page.evaluate(centre, code)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    choose_base(page, "amap")
    page.wait_for_function(
        f"(code) => {{ const c = ({centre})(code); return Math.abs(c[0] - {before[0]}) > 1e-3; }}",
        arg=code,
    )
    after = page.evaluate(centre, code)
    shifted = C.from_wgs84(before[0], before[1], "gcj02")
    assert metres_between(after[0], after[1], *shifted) < 3
    assert any("/api/v1/grids" in u and "crs=gcj02" in u for u in requests)
    assert any("/api/v1/units" in u and "crs=gcj02" in u for u in requests)
    # a click on the AMap position of the unit finds the same grid
    glon, glat = C.from_wgs84(lon, lat, "gcj02")
    hide_units(page)
    page.mouse.click(*pixel(page, glat, glon))
    wait_for_grid(page, code)
    assert any("/api/v1/locate" in u and "crs=gcj02" in u for u in requests)
    assert watch.allowed and all("autonavi.com" in u for u in watch.allowed)
    # back to no base map: WGS-84 again
    choose_base(page, "none")
    page.wait_for_function(
        f"(code) => {{ const c = ({centre})(code); return Math.abs(c[0] - {before[0]}) < 1e-9; }}",
        arg=code,
    )
    assert math.isclose(page.evaluate(centre, code)[1], before[1], abs_tol=1e-9)
