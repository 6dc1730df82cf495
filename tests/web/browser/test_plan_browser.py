"""The planner's page in Chromium: a planner opens a draft, selects a grid on the map, splits it
by drawing a line with Leaflet-Geoman (mouse clicks at the pixels of computed places), publishes,
and the locator then answers the new grid's code for a point inside it.

The app here is its own (publishing changes the district the other browser tests read)."""

from __future__ import annotations

import shapely

from geogrid.access import SYSTEM
from geogrid.usecases import planning

GRID = "320113005007007"


def pixel(page, lon: float, lat: float) -> tuple[float, float]:
    """Where a WGS-84 place is on the page."""
    return tuple(
        page.evaluate(
            """([lat, lon]) => {
                const p = geogridPlanMap.latLngToContainerPoint([lat, lon]);
                const r = geogridPlanMap.getContainer().getBoundingClientRect();
                return [p.x + r.left, p.y + r.top];
            }""",
            [lat, lon],
        )
    )


def cut_line(geom) -> tuple[tuple[float, float], tuple[float, float]]:
    """Two places outside ``geom`` on either side of it, on a horizontal line through a point
    inside it that crosses it once."""
    p = shapely.point_on_surface(geom)
    minx, _, maxx, _ = geom.bounds
    across = shapely.LineString([(minx - 0.01, p.y), (maxx + 0.01, p.y)])
    pieces = shapely.get_parts(shapely.intersection(across, geom))
    piece = min(pieces, key=lambda s: s.distance(p))
    (x0, _), (x1, _) = sorted(piece.coords)[0], sorted(piece.coords)[-1]
    margin = 0.0007  # about 65 m: out of the grid, beyond snapping distance at zoom 16
    return (x0 - margin, p.y), (x1 + margin, p.y)


def test_split_a_grid_by_drawing_then_publish_and_locate(plan_live, page_watch, passwords):
    url, site = plan_live
    page, _ = page_watch
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "planner")
    page.fill("input[name=password]", passwords["planner"])
    page.click("form button[type=submit]")
    page.wait_for_url(f"{url}/")
    assert page.locator("nav a[href='/plan']").inner_text() == "网格规划"

    page.goto(f"{url}/plan")
    page.wait_for_function("() => document.body.dataset.ready === '1'")
    page.fill("#new-name", "拆分试点")
    page.click("#new-btn")
    page.wait_for_function("() => document.querySelectorAll('#workload tbody tr').length === 156")
    draft_id = int(page.locator("#draft-select").input_value())

    geom = site.service.current()[1].district.grid2(GRID).geometry
    minx, miny, maxx, maxy = geom.bounds
    page.evaluate(
        "(b) => geogridPlanMap.fitBounds([[b[1], b[0]], [b[3], b[2]]], {maxZoom: 16, animate: false})",
        [minx, miny, maxx, maxy],
    )
    inside = shapely.point_on_surface(geom)
    page.mouse.click(*pixel(page, inside.x, inside.y))
    assert GRID in page.locator("#selection").inner_text()

    a, b = cut_line(geom)
    page.click("#tool-split")
    page.mouse.click(*pixel(page, *a))
    page.mouse.click(*pixel(page, *b))
    page.mouse.click(*pixel(page, *b))  # the last point again: the line is finished
    page.wait_for_function("() => /修订 1/.test(document.getElementById('draft-info').textContent)")
    state = planning.draft_state(site.service, SYSTEM, draft_id)
    assert [e.edit["kind"] for e in state.draft.active] == ["split"]
    new = list(state.results[-1].created)
    assert len(new) == 2 and GRID not in set(state.district.grids2["code"])
    assert "完成" in page.locator("#status").inner_text()

    page.click("[data-tab=publish]")
    page.fill("#publish-msg", "拆分东阳社区第七网格")
    page.click("#publish-btn")
    page.wait_for_function(
        "() => /已发布为版本 2/.test(document.getElementById('publish-result').textContent)"
    )

    code = new[0]
    p = shapely.point_on_surface(state.district.grid2(code).geometry)
    client = site.client()

    def located():
        answer = client.get(
            f"/api/v1/locate?lon={p.x}&lat={p.y}", headers=site.headers("dispatcher")
        ).get_json()
        return (answer.get("grid2") or {}).get("code")

    assert site.wait_for(lambda: located() == code, what="the new grid")
