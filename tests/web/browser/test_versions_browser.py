"""The version history and diff pages in Chromium: the history's compare control leads to the
diff, whose map draws the changed area (SVG paths) beside the tables; screenshots at desktop
and phone sizes go to ``$GEOGRID_SHOTS`` when it is set.

The app here is its own (publishing changes the district the other browser tests read)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_support import log_in_as
from web_support import PASSWORDS
from werkzeug.serving import make_server

from geogrid.access import SYSTEM
from geogrid.usecases import planning

KEEP, GONE = "320113005001001", "320113005001002"
SHOTS = os.environ.get("GEOGRID_SHOTS")


@pytest.fixture(scope="module")
def versions_live(make_site):
    site = make_site("sqlite", secure_cookies=None)
    svc = site.service
    state = planning.open_draft(svc, SYSTEM, "合并试点")
    planning.edit(svc, SYSTEM, state.draft.id, {"kind": "merge", "codes": [KEEP, GONE]}, 0)
    planning.publish(svc, SYSTEM, state.draft.id, "合并第一、二网格")
    server = make_server("127.0.0.1", 0, site.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="versions-app", daemon=True)
    thread.start()
    try:
        yield type("L", (), {"url": f"http://127.0.0.1:{server.server_port}", "site": site})
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def new_page(browser, width: int, height: int):
    """A fresh context and page that blocks (and records) requests off 127.0.0.1 and records
    page errors."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    outside, errors = [], []

    def route(r):
        if (urlsplit(r.request.url).hostname or "") == "127.0.0.1":
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return ctx, page, outside, errors


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("size", [(1600, 900), (390, 844)], ids=["desktop", "phone"])
def test_compare_two_versions_and_see_the_changed_area(browser, versions_live, size):
    live = versions_live
    ctx, page, outside, errors = new_page(browser, *size)
    try:
        log_in_as(page, live, "planner", PASSWORDS["planner"])
        page.goto(f"{live.url}/versions")
        assert page.locator("#version-2 .current-mark").count() == 1
        assert "合并第一、二网格" in page.locator("#version-2").inner_text()
        shot(page, f"versions-{size[0]}")
        page.select_option("#compare-a", "1")
        page.select_option("#compare-b", "2")
        page.click("#compare-btn")
        page.wait_for_url(f"{live.url}/versions/1/diff/2")
        page.wait_for_function("() => document.documentElement.dataset.diffMap === '1'")
        assert page.locator("#diff-map path.diff-changed").count() == 1
        assert page.locator("#diff-map path").count() > 100  # both versions' outlines
        rows = page.locator("#grids-table tbody tr")
        assert rows.count() == 2 and GONE in rows.nth(1).inner_text()
        assert f"{GONE}" in page.locator("#transfers-table").inner_text()
        assert page.locator("#communities-table tr.none").count() == 1
        # the page itself never scrolls sideways: wide tables scroll inside their box
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= size[0] + 1
        shot(page, f"diff-{size[0]}")
        assert outside == [] and errors == []
    finally:
        ctx.close()
