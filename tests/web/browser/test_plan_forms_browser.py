"""The planner's forms in Chromium: ``/plan?draft=ID`` opens that draft; rename a grid through
its form (and undo it), set its worker, move it to the neighbouring community, move a unit by
hand with a reason, and drag a whole shared edge with the mouse. Each is checked on the server
(``GET /api/v1/drafts/<id>`` or the use case), as a planner would see it after a reload.

The app here is its own (the drafts it makes would show on the other tests' pages)."""

from __future__ import annotations

import shapely
from test_plan_browser import pixel

from geogrid.access import SYSTEM
from geogrid.planning import geometry as geo
from geogrid.usecases import planning

GRID = "320113005007007"
NEXT = "320113005007006"
#: A grid of 东阳社区 with a neighbour in another community.
BORDER = "320113005007005"


def open_draft(page, url, site, passwords, name: str) -> int:
    """A new draft (made through the use case), opened at /plan?draft=ID as the planner."""
    draft_id = planning.open_draft(site.service, SYSTEM, name).draft.id
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "planner")
    page.fill("input[name=password]", passwords["planner"])
    page.click("form button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/plan?draft={draft_id}")
    page.wait_for_function("() => document.body.dataset.ready === '1'")
    assert page.locator("#draft-select").input_value() == str(draft_id)
    return draft_id


def select_grid(page, geom, zoom: int = 16):
    minx, miny, maxx, maxy = geom.bounds
    page.evaluate(
        "([b, z]) => geogridPlanMap.fitBounds([[b[1], b[0]], [b[3], b[2]]], {maxZoom: z, animate: false})",
        [[minx, miny, maxx, maxy], zoom],
    )
    inside = shapely.point_on_surface(geom)
    page.mouse.click(*pixel(page, inside.x, inside.y))
    page.wait_for_function("() => !document.getElementById('grid-panel').hidden")


def wait_revision(page, n: int):
    page.wait_for_function(
        f"() => /修订 {n} /.test(document.getElementById('draft-info').textContent)"
    )


def read(site, draft_id):
    return (
        site.client().get(f"/api/v1/drafts/{draft_id}", headers=site.headers("planner")).get_json()
    )


def grid_props(state, code):
    return next(
        (f["properties"] for f in state["geojson"]["features"] if f["properties"]["code"] == code),
        None,
    )


def test_rename_undo_worker_and_community_through_the_forms(plan_live, page_watch, passwords):
    url, site = plan_live
    page, watch = page_watch
    district = site.service.current()[1].district
    draft_id = open_draft(page, url, site, passwords, "表单")
    select_grid(page, district.grid2(BORDER).geometry)
    assert BORDER in page.locator("#grid-title").inner_text()

    # rename, then undo
    page.click("#f-rename summary")
    page.fill("form[data-edit=rename] [name=name]", "仙林新村网格")
    page.click("form[data-edit=rename] button[type=submit]")
    wait_revision(page, 1)
    assert grid_props(read(site, draft_id), BORDER)["name"] == "仙林新村网格"
    assert "仙林新村网格" in page.locator("#grid-title").inner_text()
    page.click("#undo-btn")
    wait_revision(page, 2)
    assert grid_props(read(site, draft_id), BORDER)["name"] == district.grid2(BORDER)["name"]

    # a code breaking the rule: the server's reason in the form, nothing stored
    page.click("#f-recode summary")
    page.fill("form[data-edit=recode] [name=new_code]", "320113005001050")
    page.click("form[data-edit=recode] button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('form[data-edit=recode] .fmsg').classList.contains('error')"
    )
    assert "320113005001050" in page.locator("form[data-edit=recode] .fmsg").inner_text()
    assert read(site, draft_id)["draft"]["revision"] == 2
    # Chromium logs the refused request; it was expected
    watch.errors[:] = [e for e in watch.errors if "status of 400" not in e]

    # the worker
    page.click("#f-worker summary")
    page.fill("form[data-edit=set_worker] [name=name]", "李四")
    page.fill("form[data-edit=set_worker] [name=phone]", "13900001111")
    page.click("form[data-edit=set_worker] button[type=submit]")
    wait_revision(page, 3)
    props = grid_props(read(site, draft_id), BORDER)
    assert (props["worker"], props["worker_phone"]) == ("李四", "13900001111")

    # to the neighbouring community: the select offers it; the grid gets a code there
    page.click("#f-community summary")
    options = page.locator("form[data-edit=move_grid] [name=community] option")
    offered = [options.nth(k).get_attribute("value") for k in range(options.count())]
    assert offered and BORDER[:12] not in offered
    target = offered[0]
    page.select_option("form[data-edit=move_grid] [name=community]", target)
    page.click("form[data-edit=move_grid] button[type=submit]")
    wait_revision(page, 4)
    state = read(site, draft_id)
    assert grid_props(state, BORDER) is None
    moved = [f["properties"] for f in state["geojson"]["features"] if f["properties"]["worker"] == "李四"]  # fmt: skip
    assert len(moved) == 1 and moved[0]["parent"] == target and moved[0]["code"].startswith(target)
    assert moved[0]["code"] in page.locator("#selection").inner_text()  # the page follows it


def test_move_a_unit_by_hand(plan_live, page_watch, passwords):
    url, site = plan_live
    page, _ = page_watch
    district = site.service.current()[1].district
    draft_id = open_draft(page, url, site, passwords, "单位")
    unit = district.units[district.units["grid"] == GRID].iloc[0]
    page.click("#tool-unit")
    page.fill("#unit-q", unit["code"])
    page.click("#unit-search button[type=submit]")
    page.locator("#unit-hits button", has_text=unit["code"]).click()
    assert GRID in page.locator("#unit-where").inner_text()

    # the target grid picked on the map
    page.click("#unit-pick")
    target = district.grid2(NEXT).geometry
    inside = shapely.point_on_surface(target)
    page.evaluate(
        "([lat, lon]) => geogridPlanMap.setView([lat, lon], 16, {animate: false})",
        [inside.y, inside.x],
    )
    page.mouse.click(*pixel(page, inside.x, inside.y))
    assert page.locator("#unit-grid").input_value() == NEXT
    page.click("#unit-form button[type=submit]")  # no reason: the browser refuses
    assert read(site, draft_id)["draft"]["revision"] == 0
    page.fill("#unit-reason", "物业归隔壁网格")
    page.click("#unit-form button[type=submit]")
    wait_revision(page, 1)
    state = read(site, draft_id)
    assert [(o["code"], o["grid"], o["reason"]) for o in state["overrides"]] == [
        (unit["code"], NEXT, "物业归隔壁网格")
    ]
    assert unit["code"] in page.locator("#overrides").inner_text()
    assert page.locator(".placed-unit").count() == 1
    assert NEXT in page.locator("#unit-where").inner_text()


def test_drag_a_whole_edge_with_the_mouse(plan_live, page_watch, passwords):
    url, site = plan_live
    page, _ = page_watch
    district = site.service.current()[1].district
    draft_id = open_draft(page, url, site, passwords, "拖边")
    a, b = district.grid2(GRID).geometry, district.grid2(NEXT).geometry
    select_grid(page, a, zoom=17)
    edge = max(shapely.get_parts(geo.shared_edge(a, b)), key=lambda e: e.length)
    xy = shapely.get_coordinates(edge)
    k = len(xy) // 2
    mid = (xy[k] + xy[k + 1]) / 2
    page.evaluate(
        "([lat, lon]) => geogridPlanMap.setView([lat, lon], 17, {animate: false})", [mid[1], mid[0]]
    )
    page.click("#tool-edge")
    page.mouse.click(*pixel(page, *mid))
    handle = page.locator(".edge-handle")
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 4, y + 3, steps=3)
    page.mouse.move(x + 8, y + 6, steps=3)
    page.mouse.up()
    wait_revision(page, 1)
    state = planning.draft_state(site.service, SYSTEM, draft_id)
    assert [e.edit["kind"] for e in state.draft.active] == ["drag_edge"]
    after = state.district
    da = geo.area_m2(after.grid2(GRID).geometry) - geo.area_m2(a)
    db = geo.area_m2(after.grid2(NEXT).geometry) - geo.area_m2(b)
    assert abs(da) > 1 and abs(db) > 1
    assert read(site, draft_id)["report"]["ok"]
    assert shapely.coverage_is_valid(after.grids2.geometry.to_numpy())
