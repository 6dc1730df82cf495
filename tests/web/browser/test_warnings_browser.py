"""Early warnings in Chromium: a dispatcher sees the active count in the navigation, the warnings
on the map (a layer of the layer control, a marker whose popup links to /warnings, the grid
outlined) and on /warnings, acknowledges one with a note and it leaves the active list for the
acknowledged one; the page and the map fit a phone. Screenshots at 1600x900 and 390x844 go to
``$GEOGRID_SHOTS`` when it is set. The app is its own (the incidents made here would show on the
other browser tests' pages)."""

from __future__ import annotations

import os
from pathlib import Path

from geogrid.access import SYSTEM
from geogrid.crs import from_wgs84
from geogrid.usecases import incidents as uc
from geogrid.usecases import warnings as uw

SHOTS = os.environ.get("GEOGRID_SHOTS")
GRID = "320113005007007"


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def log_in(page, url, passwords, role="dispatcher"):
    page.goto(f"{url}/login")
    page.fill("input[name=username]", role)
    page.fill("input[name=password]", passwords[role])
    page.click("form button[type=submit]")
    page.wait_for_url(f"{url}/")


def test_see_on_the_map_and_page_then_acknowledge(plan_live, page_watch, passwords):
    url, site = plan_live
    page, _ = page_watch
    svc = site.service
    for k in range(3):
        uc.report(svc, SYSTEM, 118.93 + 0.0003 * k, 32.11, category="0601", description="井盖缺失")
    active = uw.warnings(svc, SYSTEM)
    repeat = next(w for w in active if w.rule == "repeat")
    log_in(page, url, passwords)
    assert page.locator(".nav-warnings .nav-count").inner_text() == str(len(active))

    # the map: markers, the grid outlined, a popup linking to the page, a layer to switch off
    page.wait_for_function("() => document.documentElement.dataset.geogridReady === '1'")
    page.wait_for_function(
        f"() => document.documentElement.dataset.warningsMap === '{len(active)}'"
    )
    markers = page.locator(".leaflet-marker-pane .gg-warning-icon")
    assert markers.count() == len(active)
    assert page.locator(".leaflet-control-layers-overlays", has_text="预警").count() == 1
    shot(page, "warnings-map-1600")
    toggle = page.locator(".leaflet-control-layers-overlays label", has_text="预警").locator(
        "input"
    )
    toggle.uncheck()
    assert markers.count() == 0
    toggle.check()
    assert markers.count() == len(active)
    page.evaluate(
        """(key) => { window.geogridMap.eachLayer((l) => {
             if (l.warningKey === key) { window.geogridMap.setView(l.getLatLng(), 16); l.openPopup(); }
           }); }""",
        repeat.key,
    )
    popup = page.locator(".leaflet-popup .warning-popup")
    popup.wait_for()
    assert "同类事件" in popup.inner_text()
    assert popup.locator("a").get_attribute("href") == "/warnings?rule=repeat"
    shot(page, "warnings-map-popup-1600")
    # the page: the row, the form, the acknowledgement
    popup.locator("a").click()
    page.wait_for_url(f"{url}/warnings?rule=repeat")
    row = page.locator(f"tr[data-key='{repeat.key}']")
    assert row.count() == 1
    assert row.locator("a[href^='/incidents/']").count() == 3
    shot(page, "warnings-page-1600")
    page.goto(f"{url}/warnings")
    row.locator("textarea[name=note]").fill("已安排网格员排查井盖")
    row.locator("button[type=submit]").click()
    page.wait_for_url(f"{url}/warnings?view=active")  # back to the list it was sent from
    assert page.locator(".flash.ok").count() == 1
    assert page.locator(f"tr[data-key='{repeat.key}']").count() == 0
    assert page.locator(".nav-warnings .nav-count").inner_text() == str(len(active) - 1)
    page.click(".warn-views a[href*='view=acknowledged']")
    acked = page.locator(f"tr[data-key='{repeat.key}']")
    assert "已安排网格员排查井盖" in acked.inner_text() and "dispatcher" in acked.inner_text()
    shot(page, "warnings-acknowledged-1600")


def test_the_page_and_the_map_layer_fit_a_phone(plan_live, page_watch, passwords):
    url, site = plan_live
    page, _ = page_watch
    svc = site.service
    x, y = 118.9175, 32.1001
    for k, cat in enumerate(("0101", "0102", "0103", "0104", "0105")):
        uc.report(svc, SYSTEM, x + 0.0002 * k, y, category=cat, description="占道经营")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, url, passwords)
    page.wait_for_function("() => Number(document.documentElement.dataset.warningsMap) >= 1")
    shot(page, "warnings-map-390")
    page.goto(f"{url}/warnings")
    assert page.locator("tr[data-key^='cluster:']").count() == 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    shot(page, "warnings-page-390")


def test_the_layer_follows_amap_to_gcj02(plan_live, page_watch, passwords):
    url, site = plan_live
    page, watch = page_watch
    watch.allowed_hosts = ("autonavi.com",)  # AMap's tiles are requested (and blocked)
    svc = site.service
    for _ in range(3):
        uc.report(svc, SYSTEM, 118.9301, 32.1101, category="0602", description="雨水井盖破损")
    repeat = next(
        w for w in uw.warnings(svc, SYSTEM) if w.rule == "repeat" and w.category == "0602"
    )
    log_in(page, url, passwords)
    page.wait_for_function("() => Number(document.documentElement.dataset.warningsMap) >= 1")
    where = """(key) => { let p = null; window.geogridMap.eachLayer((l) => {
                 if (l.warningKey === key) p = l.getLatLng(); }); return p && [p.lng, p.lat]; }"""
    before = page.evaluate(where, repeat.key)
    assert abs(before[0] - repeat.lon) < 1e-6 and abs(before[1] - repeat.lat) < 1e-6
    page.evaluate(
        """() => { const id = L.stamp(geogridLayers.bases.amap);
             [...document.querySelectorAll('.leaflet-control-layers-base input')]
               .find((i) => i.layerId === id).click(); }"""
    )
    page.wait_for_function(
        f"(key) => {{ const p = ({where})(key); return p && p[0] - {before[0]} > 0.004; }}",
        arg=repeat.key,
    )
    after = page.evaluate(where, repeat.key)
    glon, glat = from_wgs84(repeat.lon, repeat.lat, "gcj02")
    assert abs(after[0] - glon) < 1e-6 and abs(after[1] - glat) < 1e-6
