"""An incident from a click on the dispatcher's map to closed, in headless Chromium: the
dispatcher locates the place, opens the intake form from the answer, saves and dispatches it;
the grid worker accepts, resolves it with a photo and makes the return visit with the
reporter's satisfaction; the dispatcher closes it. Each step through the pages' own forms."""

from __future__ import annotations

import io
import re

from browser_support import log_in_as, login
from PIL import Image
from test_map_browser import a_unit, hide_units, pixel, wait_for_grid
from web_support import PASSWORDS, WORKER_GRID


def take(page, action: str, **fields):
    """Open the form of ``action`` on the incident page, fill it and send it."""
    form = page.locator(f"form:has(input[name=action][value={action}])")
    form.evaluate("f => { f.closest('details').open = true; }")
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        tag = field.first.evaluate("e => e.tagName + ':' + (e.type || '')")
        if tag.startswith("SELECT"):
            field.select_option(value)
        elif tag.endswith(":radio"):
            form.locator(f"input[name={name}][value={value}]").check()
        elif tag.endswith(":file"):
            field.set_input_files(value)
        else:
            field.fill(value)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def state_of(live, incident_id: int) -> str:
    return live.site.store.incident(incident_id).state


def test_from_a_map_click_to_closed(browser, live, page_watch):
    page, _ = page_watch
    login(page, live)
    row, lon, lat = a_unit(live, WORKER_GRID)
    hide_units(page)
    page.mouse.click(*pixel(page, lat + 0.0002, lon + 0.0002))
    wait_for_grid(page, WORKER_GRID)
    link = page.locator("#result a.new-incident")
    assert link.is_visible()

    # the intake form, prefilled with the place and its grid's worker
    with page.expect_navigation():
        link.click()
    assert "/incidents/new" in page.url
    worker = live.site.service.locate(lon + 0.0002, lat + 0.0002).grid2.people["worker"]
    assert worker in page.text_content("main") and WORKER_GRID in page.text_content("main")
    page.select_option("select[name=category]", "0601")
    page.fill("textarea[name=description]", "浏览器测试：井盖缺失")
    page.fill("input[name=reporter]", "王女士")
    page.fill("input[name=reporter_contact]", "13900001111")
    assert page.is_checked("input[name=dispatch]")
    with page.expect_navigation():
        page.click("form.intake button[type=submit].primary")
    if "/incidents/new" in page.url:  # possible duplicates shown first: record it as new
        page.check("input[name=merge_into][value='']")
        with page.expect_navigation():
            page.click("form.intake button[type=submit].primary")
    match = re.search(r"/incidents/(\d+)$", page.url)
    assert match, page.url
    iid = int(match.group(1))
    assert state_of(live, iid) == "dispatched"
    assert "浏览器测试：井盖缺失" in page.text_content("main")
    page.context.clear_cookies()

    # the grid worker: accept, resolve with a photo, return visit with satisfaction
    log_in_as(page, live, "worker", PASSWORDS["worker"])
    page.goto(f"{live.url}/incidents/{iid}")
    assert "13900001111" in page.text_content("main")  # the worker calls back
    take(page, "accept")
    assert state_of(live, iid) == "handling"
    photo = io.BytesIO()
    Image.new("RGB", (800, 600), (40, 160, 90)).save(photo, "JPEG")
    take(page, "resolve", note="已补装井盖",
         photos={"name": "after.jpg", "mimeType": "image/jpeg", "buffer": photo.getvalue()})  # fmt: skip
    assert state_of(live, iid) == "resolved"
    assert page.locator("img[src*='thumb']").count() >= 1
    take(page, "revisit", passed="yes", satisfaction="satisfied", note="回访：群众满意")
    inc = live.site.store.incident(iid)
    assert inc.state == "revisited" and inc.satisfaction == "satisfied"
    page.context.clear_cookies()

    # the dispatcher closes it; the timeline shows every step, in order
    log_in_as(page, live, "dispatcher", PASSWORDS["dispatcher"])
    page.goto(f"{live.url}/incidents/{iid}")
    take(page, "close", note="结案")
    assert state_of(live, iid) == "closed"
    steps = [e["action"] for e in live.site.store.incident(iid).events]
    assert steps == ["report", "accept", "resolve", "revisit", "close"]
    assert page.locator(".event").count() == 5
