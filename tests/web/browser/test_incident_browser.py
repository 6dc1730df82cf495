"""The incident pages in Chromium: an incident recorded through the intake form lands on its page,
whose small map draws the place and its grid with no tile server; the informant's fields appear
for a patrol only; and every incident page fits a phone's width (390 px) without scrolling
sideways. The ``page`` fixture fails a test on any off-site request, JavaScript error or
Content-Security-Policy violation."""

from __future__ import annotations

import re

from browser_support import log_in_as


def test_intake_to_the_incident_page_and_its_map(page, live, passwords):
    log_in_as(page, live, "admin", passwords["admin"])
    page.goto(f"{live.url}/incidents/new?x=118.93&y=32.11")
    assert not page.is_visible("input[name=informant_name]")
    page.select_option("select[name=channel]", "patrol")
    assert page.is_visible("input[name=informant_name]")  # a patrol names its informant
    page.select_option("select[name=informant_kind]", "city_assistant")
    page.fill("input[name=informant_name]", "李师傅")
    page.select_option("select[name=category]", "0601")
    page.fill("textarea[name=description]", "井盖缺失")
    page.click("form.intake button[type=submit]")
    page.wait_for_url(re.compile(r".*/incidents/\d+$"))
    assert page.inner_text(".flash.ok").startswith("事件")
    assert "已派遣" in page.inner_text(".incident-main .badges")
    page.wait_for_function("() => document.documentElement.dataset.incidentMap === '2'")
    # the marker and the grid's outline, drawn as vector paths
    assert page.locator("#incident-map path").count() >= 2


def test_incident_pages_fit_a_phone(page, live, passwords):
    log_in_as(page, live, "admin", passwords["admin"])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live.url}/incidents/new?x=118.917&y=32.1")
    page.select_option("select[name=category]", "0101")
    page.fill("textarea[name=description]", "暴露垃圾")
    page.click("form.intake button[type=submit]")
    page.wait_for_url(re.compile(r".*/incidents/\d+$"))
    shown = page.url
    for path in (
        "/incidents",
        shown[len(live.url) :],
        "/incidents/new?x=118.917&y=32.1",
        "/admin/categories",
    ):
        page.goto(f"{live.url}{path}")
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
