"""Incidents through /api/v1 on both backends: the four-step method from a report to closed,
refusals naming the allowed steps, scoping of grid workers and office users, duplicates and
merge, reassigning, photos, the list (filters, GeoJSON, paging) and its export, the catalogue."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from PIL import Image
from web_support import OFFICE, WORKER_GRID

#: A point of the worker's grid, and one of another grid.
MINE = (118.93, 32.11)
OTHER_GRID = "320113005001001"


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def isite(request, make_site):
    """A site of its own per backend (these tests report incidents)."""
    return make_site(request.param)


def png(color=(30, 120, 200), size=(640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def call(site, role, method, path, **kw):
    return site.client().open(path, method=method, headers=site.headers(role), **kw)


def report(site, role="dispatcher", **body):
    body = {"x": MINE[0], "y": MINE[1], "category": "0601", "description": "井盖缺失", **body}
    resp = call(site, role, "POST", "/api/v1/incidents", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def step(site, role, iid, status=200, **body):
    resp = call(site, role, "POST", f"/api/v1/incidents/{iid}/actions", json=body)
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


def other_grid_point(site):
    grid = site.client().get(f"/api/v1/grids/{OTHER_GRID}", headers=site.headers("admin"))
    from shapely.geometry import shape

    p = shape(grid.get_json()["geometry"]).representative_point()
    return p.x, p.y


def test_from_report_to_closed(isite):
    inc = report(isite, dispatch=True, reporter="王女士", reporter_contact="13900000000")
    assert inc["state"] == "dispatched" and inc["grid_code"] == WORKER_GRID
    assert inc["worker"] and inc["deadline"] and inc["overdue"] is False
    assert inc["channel"] == "api" and inc["category_name"]["zh"].endswith("井盖破损缺失")
    iid = inc["id"]
    assert step(isite, "worker", iid, action="accept")["state"] == "handling"
    resp = call(isite, "worker", "POST", f"/api/v1/incidents/{iid}/actions", data={
        "action": "resolve", "note": "已补装井盖",
        "photos": [(io.BytesIO(png()), "after.png"), (io.BytesIO(png((9, 9, 9))), "b.png")],
    })  # fmt: skip
    assert resp.status_code == 200, resp.get_json()
    done = resp.get_json()
    assert done["state"] == "resolved" and done["revisit_due_at"] and len(done["photos"]) == 2
    photo = done["photos"][0]["id"]
    full = call(isite, "worker", "GET", f"/api/v1/incidents/photos/{photo}")
    thumb = call(isite, "worker", "GET", f"/api/v1/incidents/photos/{photo}?thumb=1")
    assert full.mimetype == "image/png" and Image.open(io.BytesIO(full.data)).size == (640, 480)
    assert thumb.mimetype == "image/jpeg" and max(Image.open(io.BytesIO(thumb.data)).size) == 320
    visited = step(isite, "worker", iid, action="revisit", passed=True, satisfaction="satisfied")
    assert visited["state"] == "revisited" and visited["satisfaction"] == "satisfied"
    closed = step(isite, "dispatcher", iid, action="close", note="结案")
    assert closed["state"] == "closed" and closed["actions"] == ["reopen", "photo"]
    log = [(e["action"], e["actor"], e["to_state"]) for e in closed["events"]]
    assert log == [
        ("report", "dispatcher", "dispatched"),
        ("accept", "worker", "handling"),
        ("resolve", "worker", "resolved"),
        ("revisit", "worker", "revisited"),
        ("close", "dispatcher", "closed"),
    ]
    assert closed["reporter_contact"] == "13900000000"


def test_a_refused_step_names_the_allowed_ones(isite):
    inc = report(isite)
    error = step(isite, "dispatcher", inc["id"], 400, action="close")["error"]
    assert "cannot close an incident that is reported" in error["message"]
    assert "allowed now: dispatch" in error["message"]
    assert step(isite, "dispatcher", inc["id"], 400, action="cancel")["error"][
        "message"
    ].startswith("to cancel an incident, say why")
    assert step(isite, "dispatcher", inc["id"], 400, action="fly")["error"]["message"].startswith(
        "unknown incident action 'fly'"
    )
    # a worker may not dispatch (a role), nor close (a role), whatever the state
    assert step(isite, "worker", inc["id"], 403, action="dispatch")["error"]["status"] == 403
    assert report(isite)["actions"] == ["dispatch", "cancel", "merge", "reassign", "photo"]


def test_the_problem_comes_back_after_a_return_visit(isite):
    inc = report(isite, dispatch=True)
    step(isite, "worker", inc["id"], action="resolve", note="清理完毕")
    back = step(isite, "worker", inc["id"], action="revisit", passed=False, note="又堆满了")
    assert back["state"] == "dispatched" and back["recurrences"] == 1
    assert back["resolved_at"] is None and back["due_at"]
    error = step(isite, "worker", inc["id"], 400, action="revisit", passed=True)["error"]
    assert "cannot revisit an incident that is dispatched" in error["message"]


def test_escalated_to_an_office_which_alone_resolves_it(isite):
    inc = report(isite, dispatch=True, category="0601")
    mine = call(isite, "office", "GET", f"/api/v1/incidents/{inc['id']}")
    assert mine.status_code == 403 and OFFICE in mine.get_json()["error"]["message"]
    up = step(
        isite, "worker", inc["id"], action="escalate", note="需会办", office=OFFICE, workdays=2
    )
    assert up["state"] == "escalated" and up["office"] == OFFICE and up["office_due_at"]
    seen = call(isite, "office", "GET", "/api/v1/incidents?state=escalated&limit=1000").get_json()
    assert inc["id"] in {i["id"] for i in seen["incidents"]}
    assert {i["office"] for i in seen["incidents"]} == {OFFICE}
    assert step(isite, "office", inc["id"], action="resolve", note="已修复")["state"] == "resolved"
    # once resolved it is no longer the office's to act on
    assert (
        step(isite, "office", inc["id"], 403, action="resolve", note="x")["error"]["status"] == 403
    )


def test_a_worker_sees_and_acts_on_their_own_grid_only(isite):
    mine = report(isite, dispatch=True)  # one of theirs, whatever the other tests left
    assert mine["grid_code"] == WORKER_GRID
    x, y = other_grid_point(isite)
    other = report(isite, x=x, y=y, dispatch=True)
    assert other["grid_code"] == OTHER_GRID
    for method, path, kw in [
        ("GET", f"/api/v1/incidents/{other['id']}", {}),
        ("POST", f"/api/v1/incidents/{other['id']}/actions", {"json": {"action": "accept"}}),
        ("GET", f"/api/v1/incidents?grid={OTHER_GRID}", {}),
    ]:
        resp = call(isite, "worker", method, path, **kw)
        assert resp.status_code == 403 and WORKER_GRID in resp.get_json()["error"]["message"]
    listed = call(isite, "worker", "GET", "/api/v1/incidents?limit=1000").get_json()
    assert listed["total"] >= 1 and {i["grid_code"] for i in listed["incidents"]} == {WORKER_GRID}
    everyone = call(isite, "dispatcher", "GET", "/api/v1/incidents?limit=1").get_json()
    assert everyone["total"] > listed["total"]


def test_a_planner_reads_incidents_without_the_reporters_contact(isite):
    inc = report(isite, reporter="张先生", reporter_contact="13800000000")
    seen = call(isite, "planner", "GET", f"/api/v1/incidents/{inc['id']}").get_json()
    assert "reporter_contact" not in seen and "reporter" not in seen and seen["actions"] == []
    assert all(set(e) == {"at", "action", "from_state", "to_state"} for e in seen["events"])
    resp = call(isite, "planner", "POST", "/api/v1/incidents", json={"x": 118.93, "y": 32.11})
    assert resp.status_code == 403


def test_gcj02_places_are_converted_and_kept_as_given(isite):
    from geogrid import crs

    gx, gy = (float(v) for v in crs.from_wgs84(*MINE, "gcj02"))
    inc = report(isite, x=gx, y=gy, crs="gcj02")
    assert abs(inc["lon"] - MINE[0]) < 1e-6 and abs(inc["lat"] - MINE[1]) < 1e-6
    assert inc["input"] == {"x": gx, "y": gy, "crs": "gcj02"} and inc["grid_code"] == WORKER_GRID


def test_a_report_at_a_unit(isite):
    unit = call(isite, "admin", "GET", f"/api/v1/units?grid={WORKER_GRID}&limit=1").get_json()
    feature = unit["features"][0]
    inc = report(isite, x=None, y=None, unit_code=feature["id"])
    assert inc["unit_code"] == feature["id"] and inc["grid_code"] == WORKER_GRID
    assert [round(inc["lon"], 6), round(inc["lat"], 6)] == [
        round(c, 6) for c in feature["geometry"]["coordinates"]
    ]


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"x": 118.93, "y": 32.11}, 400, "category"),
        ({"x": 118.93, "y": 32.11, "category": "9999"}, 400, "unknown incident category"),
        ({"x": 118.5, "y": 32.0, "category": "0601"}, 400, "outside the district (nearest grid"),
        ({"x": 118.93, "category": "0601"}, 400, "both coordinates"),
        ({"category": "0601"}, 400, "give the place"),
        (
            {"x": 118.93, "y": 32.11, "category": "0601", "colour": "red"},
            400,
            "unknown field 'colour'",
        ),
        ({"x": 118.93, "y": 32.11, "category": "0601", "channel": "fax"}, 400, "channel"),
        ({"x": 118.93, "y": 32.11, "category": "0601", "dispatch": "maybe"}, 400, "dispatch"),
        ({"x": 118.93, "y": 32.11, "category": "0601", "grid_code": OTHER_GRID}, 400, "candidates"),
        ({"x": 118.93, "y": 32.11, "category": "0601", "media_url": "ftp://x"}, 400, "media_url"),
        ({"x": "abc", "y": 32.11, "category": "0601"}, 400, "x"),
        ([1, 2], 400, "JSON object"),
    ],
)
def test_bad_reports_are_refused_clearly(isite, body, status, words):
    before = call(isite, "admin", "GET", "/api/v1/incidents?limit=1").get_json()["total"]
    resp = call(isite, "dispatcher", "POST", "/api/v1/incidents", json=body)
    assert resp.status_code == status
    assert words in resp.get_json()["error"]["message"]
    assert call(isite, "admin", "GET", "/api/v1/incidents?limit=1").get_json()["total"] == before


def test_bodies_of_other_types_and_bad_photos(isite):
    resp = call(
        isite, "dispatcher", "POST", "/api/v1/incidents", data="x=1", content_type="text/plain"
    )
    assert resp.status_code == 415 and "multipart/form-data" in resp.get_json()["error"]["message"]
    resp = call(isite, "dispatcher", "POST", "/api/v1/incidents", data={
        "x": "118.93", "y": "32.11", "category": "0601",
        "photos": (io.BytesIO(b"MZ\x90\x00 not an image"), "evil.png"),
    })  # fmt: skip
    assert resp.status_code == 400 and "JPEG, PNG or WebP" in resp.get_json()["error"]["message"]


def test_duplicates_and_merge(isite):
    first = report(isite, category="0302", reporter="甲", dispatch=True)
    near = call(
        isite, "dispatcher", "GET",
        f"/api/v1/incidents/duplicates?lon={MINE[0] + 0.0003}&lat={MINE[1]}&category=0302",
    ).get_json()  # fmt: skip
    found = {d["id"]: d["distance_m"] for d in near["duplicates"]}
    assert first["id"] in found and 25 < found[first["id"]] < 35 and near["radius_m"] == 100
    far = call(
        isite, "dispatcher", "GET",
        f"/api/v1/incidents/duplicates?lon={MINE[0] + 0.003}&lat={MINE[1]}&category=0302",
    ).get_json()  # fmt: skip
    assert first["id"] not in {d["id"] for d in far["duplicates"]}
    merged = report(isite, category="0302", reporter="乙", merge_into=first["id"])
    assert merged["id"] == first["id"] and merged["merged"]
    second = call(isite, "dispatcher", "GET", f"/api/v1/incidents/{merged['merged'][0]}").get_json()
    assert second["state"] == "merged" and second["merged_into"] == first["id"]
    assert second["reporter"] == "乙" and merged["reporter"] == "甲"


def test_reassign_is_an_explicit_logged_step(isite):
    inc = report(isite, dispatch=True)
    resp = call(isite, "dispatcher", "POST", f"/api/v1/incidents/{inc['id']}/reassign",
                json={"grid_code": OTHER_GRID})  # fmt: skip
    assert resp.status_code == 400 and "say why" in resp.get_json()["error"]["message"]
    moved = call(isite, "dispatcher", "POST", f"/api/v1/incidents/{inc['id']}/reassign",
                 json={"grid_code": OTHER_GRID, "note": "实为相邻网格"}).get_json()  # fmt: skip
    assert moved["grid_code"] == OTHER_GRID and moved["worker"] != inc["worker"]
    last = moved["events"][-1]
    assert last["action"] == "reassign" and last["detail"]["from_grid"] == WORKER_GRID
    gone = call(isite, "worker", "GET", f"/api/v1/incidents/{inc['id']}")
    assert gone.status_code == 403


def test_the_list_filters_pages_and_maps(isite):
    a = report(isite, category="0101", description="路面破损 filter-test")
    b = report(isite, category="0102", description="路灯 filter-test", dispatch=True)
    got = call(isite, "dispatcher", "GET", "/api/v1/incidents?q=filter-test&sort=id").get_json()
    assert [i["id"] for i in got["incidents"]] == [a["id"], b["id"]] and got["total"] == 2
    page = call(
        isite, "dispatcher", "GET", "/api/v1/incidents?q=filter-test&sort=-id&limit=1&offset=1"
    )
    assert [i["id"] for i in page.get_json()["incidents"]] == [a["id"]]
    by_state = call(isite, "dispatcher", "GET", "/api/v1/incidents?q=filter-test&state=dispatched")
    assert [i["id"] for i in by_state.get_json()["incidents"]] == [b["id"]]
    by_class = call(isite, "dispatcher", "GET", "/api/v1/incidents?q=filter-test&category=01")
    assert by_class.get_json()["total"] == 2
    assert "events" not in got["incidents"][0]  # a list's rows are light
    geo = call(isite, "dispatcher", "GET", "/api/v1/incidents?q=filter-test&format=geojson")
    assert geo.mimetype == "application/geo+json"
    feature = geo.get_json()["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [MINE[0], MINE[1]]}
    assert feature["properties"]["state"] in ("reported", "dispatched")
    for bad, words in [("state=lost", "unknown state"), ("sort=colour", "sort"),
                       ("limit=5000", "limit"), ("format=kml", "format"), ("since=yesterday", "since")]:  # fmt: skip
        resp = call(isite, "dispatcher", "GET", f"/api/v1/incidents?{bad}")
        assert resp.status_code == 400 and words in resp.get_json()["error"]["message"]


def test_export_csv_and_xlsx(isite):
    report(isite, category="0101", description="导出 export-test", reporter="赵")
    odd = report(isite, category="0101", description="控制\x01字符 export-test\x1f")
    assert odd["description"] == "控制字符 export-test"  # control characters are not kept
    resp = call(
        isite, "dispatcher", "GET", "/api/v1/incidents/export?format=csv&q=export-test&lang=zh"
    )
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert len(rows) == 3 and "导出 export-test" in rows[2]
    resp = call(
        isite, "dispatcher", "GET", "/api/v1/incidents/export?format=xlsx&q=export-test&lang=en"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(resp.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(values) == 3 and "导出 export-test" in values[2]
    assert any("Category" in str(h) for h in values[0])
    assert "赵" in values[2] and "Reporter" in values[0]
    # a planner's export has no reporter's name or contact, as the planner's reads
    planner = call(
        isite, "planner", "GET", "/api/v1/incidents/export?format=csv&q=export-test&lang=en"
    )
    header, *rows = list(csv.reader(io.StringIO(planner.data.decode("utf-8-sig"))))
    assert "Reporter" not in header and "Contact" not in header and "赵" not in rows[1]
    bad = call(isite, "dispatcher", "GET", "/api/v1/incidents/export?format=pdf")
    assert bad.status_code == 400


def test_the_catalogue_is_read_by_all_and_kept_by_admins(isite):
    cats = call(isite, "worker", "GET", "/api/v1/incident-categories").get_json()["categories"]
    codes = {c["code"] for c in cats}
    assert {"0601", "0101"} <= codes and all(c["workdays"] >= 1 and c["office"] for c in cats)
    body = {"major": "矛盾纠纷", "minor": "邻里噪声", "workdays": 5, "office": "司法所"}
    assert (
        call(isite, "dispatcher", "PUT", "/api/v1/incident-categories/8801", json=body).status_code
        == 403
    )
    saved = call(isite, "admin", "PUT", "/api/v1/incident-categories/8801", json=body)
    assert saved.status_code == 200 and saved.get_json()["workdays"] == 5
    inc = report(isite, category="8801", dispatch=True)
    assert inc["category_name"]["zh"] == "矛盾纠纷 / 邻里噪声"
    retired = call(
        isite, "admin", "PUT", "/api/v1/incident-categories/8801", json={**body, "active": False}
    )
    assert retired.get_json()["active"] is False
    active = call(isite, "worker", "GET", "/api/v1/incident-categories").get_json()["categories"]
    assert "8801" not in {c["code"] for c in active}
    everything = call(isite, "worker", "GET", "/api/v1/incident-categories?inactive=1").get_json()
    assert {"code": "8801", "active": False}.items() <= next(
        c for c in everything["categories"] if c["code"] == "8801"
    ).items()
    resp = call(isite, "dispatcher", "POST", "/api/v1/incidents",
                json={"x": MINE[0], "y": MINE[1], "category": "8801"})  # fmt: skip
    assert resp.status_code == 400
    bad = call(isite, "admin", "PUT", "/api/v1/incident-categories/88", json=body)
    assert bad.status_code == 400 and "4 digits" in bad.get_json()["error"]["message"]


def test_unknown_incidents_and_photos_are_404(isite):
    for path in ("/api/v1/incidents/999999", "/api/v1/incidents/photos/999999",
                 "/api/v1/incidents/99999999999999999999"):  # fmt: skip
        resp = call(isite, "admin", "GET", path)
        assert resp.status_code == 404 and resp.get_json()["error"]["status"] == 404


@pytest.mark.parametrize(
    "query",
    ["q=9999999999", "q=13900001234", "q=%C2%B2", "q=99999999999999999999999", "id=%C2%B2",
     "until=9999-12-31", "since=0001-01-01", "since=0001-01-01T00:00"],
)  # fmt: skip
def test_odd_list_queries_are_answered_not_crashed(isite, query):
    resp = call(isite, "dispatcher", "GET", f"/api/v1/incidents?{query}")
    assert resp.status_code in (200, 400), resp.get_data(as_text=True)[:200]
    if resp.status_code == 400:
        assert resp.get_json()["error"]["message"]


def test_a_planner_cannot_find_incidents_by_the_reporters_name(isite):
    report(isite, reporter="欧阳锋")
    assert call(isite, "dispatcher", "GET", "/api/v1/incidents?q=欧阳锋").get_json()["total"] >= 1
    assert call(isite, "planner", "GET", "/api/v1/incidents?q=欧阳锋").get_json()["total"] == 0


def test_a_coordinate_beyond_any_float_is_refused(isite):
    body = '{"x": 1' + "0" * 400 + ', "y": 32, "category": "0601"}'
    resp = call(
        isite, "dispatcher", "POST", "/api/v1/incidents", data=body, content_type="application/json"
    )
    assert resp.status_code == 400 and "finite" in resp.get_json()["error"]["message"]


def test_an_office_acts_only_while_escalated_to_it(isite):
    inc = report(isite, dispatch=True)
    step(isite, "worker", inc["id"], action="escalate", note="会办", office=OFFICE)
    step(isite, "office", inc["id"], action="resolve", note="已修复")
    step(isite, "dispatcher", inc["id"], action="reopen", note="又坏了")
    resp = call(isite, "office", "POST", f"/api/v1/incidents/{inc['id']}/photos",
                data={"photos": (io.BytesIO(png()), "p.png")})  # fmt: skip
    assert (
        resp.status_code == 403
        and "only while it is escalated" in resp.get_json()["error"]["message"]
    )
