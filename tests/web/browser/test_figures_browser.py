"""The figures page in Chromium: the ECharts charts (canvases) and the choropleth of the grids
drawn from a sample history, the table sorted by a click, the grouping switched, English, and
nothing loaded from outside; screenshots at 1600x900 and 390x844 go to ``$GEOGRID_SHOTS``."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from browser_support import log_in_as
from web_support import PASSWORDS, WORKER_GRID

from geogrid.access import SYSTEM
from geogrid.usecases import incidents as U

SHOTS = os.environ.get("GEOGRID_SHOTS")
END = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def fig_live(plan_live):
    url, site = plan_live
    U.sample_history(site.service, SYSTEM, count=4000, seed=11, end=END, years=2)
    return SimpleNamespace(url=url, site=site)


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def ready(page) -> None:
    page.wait_for_function("() => document.documentElement.dataset.figuresMap === '1'")
    page.wait_for_function("() => document.documentElement.dataset.figuresCharts === '1'")


@pytest.mark.parametrize("size", [(1600, 900), (390, 844)], ids=["desktop", "phone"])
def test_figures_page_draws_charts_and_the_choropleth(browser, page_watch, fig_live, size):
    page, _ = page_watch
    page.set_viewport_size({"width": size[0], "height": size[1]})
    log_in_as(page, fig_live, "dispatcher", PASSWORDS["dispatcher"])
    page.click("nav >> text=统计")
    page.wait_for_url(f"{fig_live.url}/figures")
    ready(page)
    assert page.locator("#trend-chart canvas").count() >= 1
    assert page.locator("#bar-chart canvas").count() >= 1
    # every second-level grid drawn and coloured (SVG paths, no tiles)
    grids = page.locator("#figures-map path.figure-grid")
    assert grids.count() == 156
    fills = set(page.eval_on_selector_all("#figures-map path.figure-grid", "ps => ps.map(p => p.getAttribute('fill'))"))  # fmt: skip
    assert len(fills) >= 3  # a scale, not one colour
    assert "结案率" in page.locator("#map-legend").inner_text()
    api = fig_live.site.client().get("/api/v1/figures", headers=fig_live.site.headers("dispatcher"))
    groups = api.get_json()["groups"]
    assert page.locator("#figures-table tbody tr").count() == len(groups) > 140
    assert "按期结案率" in page.locator("#figures-table thead").inner_text()
    assert "最近秩" in page.locator("#definitions").inner_text()
    shot(page, f"figures-{size[0]}")
    # the page never scrolls sideways: the wide table scrolls inside its box
    assert page.evaluate("() => document.documentElement.scrollWidth") <= size[0] + 1


def test_sort_switch_grouping_and_english(page_watch, fig_live):
    page, _ = page_watch
    log_in_as(page, fig_live, "planner", PASSWORDS["planner"])
    page.goto(f"{fig_live.url}/figures?by=grid")
    ready(page)
    head = page.locator("#figures-table thead th").nth(1)  # 上报数
    head.click()
    values = page.eval_on_selector_all("#figures-table tbody tr td:nth-child(2)", "ts => ts.map(t => +t.dataset.value)")  # fmt: skip
    assert values == sorted(values) and values[0] < values[-1]
    head.click()
    values = page.eval_on_selector_all("#figures-table tbody tr td:nth-child(2)", "ts => ts.map(t => +t.dataset.value)")  # fmt: skip
    assert values == sorted(values, reverse=True)
    page.select_option("select[name=by]", "month")
    page.check("#whole")
    page.click("#figures-form button[type=submit]")
    page.wait_for_url("**/figures?**period=all**")
    ready(page)
    months = page.locator("#figures-table tbody tr")
    assert months.count() >= 24
    # grouped by month, the map still colours the grids (their figures from the API)
    page.select_option("#map-figure", "count")
    fills = set(page.eval_on_selector_all("#figures-map path.figure-grid", "ps => ps.map(p => p.getAttribute('fill'))"))  # fmt: skip
    assert len(fills) >= 3
    page.select_option("#map-figure", "handling_p90_h")
    assert "90" in page.locator("#map-legend").inner_text()
    page.goto(f"{fig_live.url}/lang/en?next=/figures%3Fby%3Dcategory")
    ready(page)
    assert "On-time rate" in page.locator("#figures-table thead").inner_text()
    assert "nearest rank" in page.locator("#definitions").inner_text()


def test_a_worker_sees_their_grid_only(page_watch, fig_live):
    page, _ = page_watch
    log_in_as(page, fig_live, "worker", PASSWORDS["worker"])
    page.goto(f"{fig_live.url}/figures")
    ready(page)
    rows = page.locator("#figures-table tbody tr")
    assert rows.count() == 1 and WORKER_GRID in rows.first.inner_text()
    assert "仅本网格" in page.locator("#figures-scope").inner_text()
