"""The incident pages: the list with its filters, paging and exports, an incident's page with
the forms of the steps each role may take now, the intake form (boundary candidates, possible
duplicates and merging), photos and thumbnails, the category catalogue, who sees what (a grid
worker their own grid's only; reporters' contacts not for planners) and escaping of user text.

Each test module site is its own (``make_site``), with photos in a temporary folder; incidents are
made through the use cases or the pages, as a user would make them.
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from PIL import Image
from web_support import OFFICE, ROLES, WORKER_GRID

from geogrid import incidents as wf
from geogrid.access import RULES, Actor
from geogrid.db import schema as t
from geogrid.db.types import utcnow
from geogrid.incidents.query import IncidentQuery
from geogrid.usecases import incidents as U

DISP = Actor("dispatcher", "dispatcher")
#: A place in the worker's grid (东阳社区第07网格).
HERE = (118.93, 32.11)
#: A place 18 m from two neighbouring grids (杉湖社区第03网格 owns it).
EDGE = (118.9170, 32.1000)
PAYLOAD = "<img src=x onerror=alert(1)>"
RAW = ("<img src=x", "onerror=alert(1)>")
_ROW = re.compile(r'<td class="num"><a href="/incidents/(\d+)">')


@pytest.fixture(scope="module")
def isite(make_site, tmp_path_factory):
    site = make_site()
    svc = site.service
    svc.policy = replace(svc.policy, photo_dir=tmp_path_factory.mktemp("photos"))
    return site


@pytest.fixture
def as_role(isite, login, csrf_token):
    """``as_role(role)``: (a client logged in as that role's user, its CSRF token)."""

    def make(role: str, site=None):
        site = site or isite
        client = login(site.client(), role)
        return client, csrf_token(client, "/account/tokens")

    return make


def report(site, *, at=HERE, category="0202", **kw):
    kw.setdefault("description", "占道摆摊")
    return U.report(site.service, DISP, *at, category=category, **kw)


def jpeg(w=800, h=600) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (30, 120, 200)).save(buf, "JPEG")
    return buf.getvalue()


def page(client, path, status=200) -> str:
    resp = client.get(path)
    assert resp.status_code == status, (path, resp.status_code, resp.get_data(as_text=True)[:400])
    return resp.get_data(as_text=True)


def listed(body: str) -> list[int]:
    return [int(n) for n in _ROW.findall(body)]


def act(client, csrf, incident_id, action, files=(), **fields):
    """Post an action form; returns the page it redirects to."""
    data = {"csrf_token": csrf, "action": action, **fields}
    if files:
        data["photos"] = [(io.BytesIO(b), f"p{i}.jpg") for i, b in enumerate(files)]
    resp = client.post(f"/incidents/{incident_id}/act", data=data)
    assert resp.status_code == 302, (action, resp.status_code, resp.get_data(as_text=True)[:400])
    assert resp.headers["Location"] == f"/incidents/{incident_id}"
    return page(client, resp.headers["Location"])


def forms_on(body: str) -> list[str]:
    return re.findall(r'<input type="hidden" name="action" value="(\w+)">', body)


def wf_query():
    return IncidentQuery(limit=1000)


def state_of(site, incident_id) -> str:
    return site.store.incident(incident_id).state


def badge(state: str) -> str:
    return f'<span class="badge st-{state}">{wf.STATES[state]}</span>'


# ---------------------------------------------------------------------- who sees which page
@pytest.mark.parametrize("role", ROLES)
def test_each_page_for_each_role(isite, as_role, role):
    mine = report(isite, reporter="王女士", reporter_contact="13800001111")
    client, _ = as_role(role)
    listing = page(client, "/incidents")
    assert 'href="/incidents"' in listing  # the nav link
    assert ('href="/incidents/new"' in listing) == (role in RULES["report_incident"].roles)
    assert ('href="/admin/categories"' in listing) == (role == "admin")
    if role == "office":  # not escalated to their office: neither listed nor readable
        assert mine.id not in listed(listing)
        assert client.get(f"/incidents/{mine.id}").status_code == 403
    else:
        assert mine.id in listed(listing)
        body = page(client, f"/incidents/{mine.id}")
        assert badge("reported") in body and "占道摆摊" in body
        # the reporter's contact only for the roles that may see it
        assert ("13800001111" in body) == (role in RULES["incident_contacts"].roles)
    intake = client.get("/incidents/new")
    assert intake.status_code == (200 if role in RULES["report_incident"].roles else 403)
    cats = client.get("/admin/categories")
    assert cats.status_code == (200 if role == "admin" else 403)


def test_an_office_user_reads_and_acts_on_what_is_escalated_to_it(isite, as_role):
    inc = report(isite, dispatch=True)
    U.act(isite.service, DISP, inc.id, "escalate", note="需执法", office=OFFICE)
    client, csrf = as_role("office")
    assert inc.id in listed(page(client, "/incidents"))
    body = page(client, f"/incidents/{inc.id}")
    assert forms_on(body) == ["resolve", "photo"]
    body = act(client, csrf, inc.id, "resolve", note="已拆除")
    assert badge("resolved") in body and state_of(isite, inc.id) == "resolved"


def test_a_worker_sees_and_opens_only_their_own_grids_incidents(isite, as_role):
    mine = report(isite, photos=[jpeg()])
    theirs = report(isite, at=EDGE, photos=[jpeg()])
    assert theirs.grid_code != WORKER_GRID
    client, csrf = as_role("worker")
    shown = listed(page(client, "/incidents?limit=1000"))
    assert mine.id in shown and theirs.id not in shown
    assert {isite.store.incident(i).grid_code for i in shown} == {WORKER_GRID}
    assert client.get(f"/incidents/{theirs.id}").status_code == 403
    assert client.get(f"/incidents/photos/{theirs.photos[0]['id']}?thumb=1").status_code == 403
    assert client.get(f"/incidents?grid={theirs.grid_code}").status_code == 403
    resp = client.post(f"/incidents/{theirs.id}/act", data={"csrf_token": csrf, "action": "accept"})
    assert resp.status_code == 403 and state_of(isite, theirs.id) == "reported"
    assert client.get(f"/incidents/photos/{mine.photos[0]['id']}").status_code == 200


def test_unknown_incidents_and_photos_are_not_found(isite, as_role):
    client, _ = as_role("dispatcher")
    assert client.get("/incidents/999999").status_code == 404
    assert client.get("/incidents/photos/999999").status_code == 404


# ---------------------------------------------------------------------- the list
@pytest.fixture(scope="module")
def listing_site(make_site):
    """A site with a known set of incidents: 5 in the worker's grid (0202, by phone; one of
    them overdue), 3 at the edge place (0101, by app), 2 of them dispatched."""
    site = make_site()
    made = {"here": [], "edge": []}
    for i in range(5):
        made["here"].append(report(site, description=f"摊点{'甲乙丙丁戊'[i]}", dispatch=i < 2).id)
    for i in range(3):
        made["edge"].append(
            report(
                site, at=EDGE, category="0101", channel="app", description=f"垃圾{'甲乙丙'[i]}"
            ).id
        )
    with site.store.engine.begin() as conn:  # the first one's deadline has passed
        conn.execute(
            t.incidents.update()
            .where(t.incidents.c.id == made["here"][0])
            .values(due_at=utcnow() - timedelta(hours=2))
        )
    site.made = made
    return site


def test_the_list_filters(listing_site, as_role):
    site, made = listing_site, listing_site.made
    client, _ = as_role("dispatcher", site)
    everything = listed(page(client, "/incidents"))
    assert sorted(everything) == sorted(made["here"] + made["edge"])
    assert everything == sorted(everything, reverse=True)  # newest first
    edge_grid = site.store.incident(made["edge"][0]).grid_code
    community = site.store.incident(made["edge"][0]).grid1_code
    today = (utcnow() + timedelta(hours=8)).date()
    cases = {
        "state=dispatched": made["here"][:2],
        "state=reported&category=0202": made["here"][2:],
        f"grid={edge_grid}": made["edge"],
        f"community={community}": made["edge"],
        "category=01": made["edge"],
        "channel=app": made["edge"],
        "overdue=true": made["here"][:1],
        "q=垃圾乙": made["edge"][1:2],
        f"q={made['here'][3]}": made["here"][3:4],
        f"since={today}": made["here"] + made["edge"],
        f"until={today - timedelta(days=1)}": [],
        f"since={today + timedelta(days=1)}": [],
        "sort=id": sorted(made["here"] + made["edge"]),
    }
    for args, expected in cases.items():
        body = page(client, f"/incidents?{args}")
        got = listed(body)
        if args == "sort=id":
            assert got == expected, args
        else:
            assert sorted(got) == sorted(expected), args
        if not expected:
            assert "没有符合条件的事件。" in body
    # the overdue one stands out in the list
    body = page(client, "/incidents?overdue=true")
    assert (
        '<tr class="overdue" data-id=' in body
        and '<span class="badge flag-overdue">超期</span>' in body
    )


def test_the_list_pages_through_every_incident_once(listing_site, as_role):
    site = listing_site
    client, _ = as_role("admin", site)
    seen, path = [], "/incidents?limit=3&sort=id"
    while path:
        body = page(client, html.unescape(path))
        rows = listed(body)
        assert 0 < len(rows) <= 3
        seen += rows
        m = re.search(r'rel="next" href="([^"]+)"', body)
        path = m.group(1) if m else None
        if path:
            assert "sort=id" in path and "limit=3" in path
    assert seen == sorted(site.made["here"] + site.made["edge"])
    assert "第 1–3 条，共 8 条" in page(client, "/incidents?limit=3")
    back = page(client, "/incidents?limit=3&offset=3")
    assert 'rel="prev" href="/incidents?limit=3"' in back


def test_a_filter_that_cannot_be_read_is_a_400_naming_it(isite, as_role):
    client, _ = as_role("dispatcher")
    for args, word in (("state=nope", "state"), ("since=tomorrow", "since"), ("sort=x", "sort")):
        body = page(client, f"/incidents?{args}", status=400)
        assert word in body and 'role="alert"' in body


def test_exports_have_the_lists_rows(listing_site, as_role):
    site, made = listing_site, listing_site.made
    client, _ = as_role("dispatcher", site)
    body = page(client, "/incidents?channel=app")
    assert 'href="/incidents/export.csv?channel=app"' in body
    assert 'href="/incidents/export.xlsx?channel=app"' in body
    resp = client.get("/incidents/export.csv?channel=app")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "上报时间", "状态"]
    assert sorted(int(r[0]) for r in rows[1:]) == sorted(made["edge"])
    from openpyxl import load_workbook

    resp = client.get("/incidents/export.xlsx?state=dispatched")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.get_data()), read_only=True).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0][0] == "编号"
    assert sorted(int(r[0]) for r in table[1:]) == sorted(made["here"][:2])
    assert client.get("/incidents/export.pdf").status_code == 400


def test_a_workers_export_holds_their_grid_only(listing_site, as_role):
    client, _ = as_role("worker", listing_site)
    resp = client.get("/incidents/export.csv")
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert sorted(int(r[0]) for r in rows[1:]) == sorted(listing_site.made["here"])


# ---------------------------------------------------------------------- the steps
def test_each_step_through_its_form(isite, as_role):
    disp, dcsrf = as_role("dispatcher")
    worker, wcsrf = as_role("worker")
    inc = report(isite)
    assert forms_on(page(disp, f"/incidents/{inc.id}")) == [
        "dispatch", "cancel", "merge", "reassign", "photo",
    ]  # fmt: skip
    assert forms_on(page(worker, f"/incidents/{inc.id}")) == ["photo"]
    body = act(disp, dcsrf, inc.id, "dispatch")
    assert badge("dispatched") in body and "已完成：派遣。" in body
    assert forms_on(page(worker, f"/incidents/{inc.id}")) == [
        "accept", "escalate", "resolve", "photo",
    ]  # fmt: skip
    assert badge("handling") in act(worker, wcsrf, inc.id, "accept", note="到场")
    body = act(worker, wcsrf, inc.id, "escalate", note="需执法", office=OFFICE, workdays="3")
    assert badge("escalated") in body
    assert isite.store.incident(inc.id).office == OFFICE
    office, ocsrf = as_role("office")
    assert badge("resolved") in act(office, ocsrf, inc.id, "resolve", note="已拆除")
    body = act(worker, wcsrf, inc.id, "revisit", passed="no", note="又摆出来了")
    assert badge("dispatched") in body and isite.store.incident(inc.id).recurrences == 1
    act(worker, wcsrf, inc.id, "resolve", note="清理完毕")
    body = act(worker, wcsrf, inc.id, "revisit", passed="yes", satisfaction="fair")
    assert badge("revisited") in body and "基本满意" in body
    assert isite.store.incident(inc.id).satisfaction == "fair"
    assert badge("closed") in act(disp, dcsrf, inc.id, "close")
    assert forms_on(page(disp, f"/incidents/{inc.id}")) == ["reopen", "photo"]
    assert badge("dispatched") in act(disp, dcsrf, inc.id, "reopen", note="群众再次反映")
    assert badge("cancelled") in act(disp, dcsrf, inc.id, "cancel", note="重复上报")
    assert forms_on(page(disp, f"/incidents/{inc.id}")) == []
    # the timeline has every step, who took it and the notes
    body = page(disp, f"/incidents/{inc.id}")
    timeline = body[body.index('class="timeline"') :]
    for text in ("签收", "提请会办", "办结", "回访", "结案", "重新交办", "作废", "又摆出来了"):
        assert text in timeline, text
    assert "worker" in timeline and "office" in timeline


def test_merge_and_reassign_through_their_forms(isite, as_role):
    disp, csrf = as_role("dispatcher")
    a, b = report(isite), report(isite)
    body = act(disp, csrf, b.id, "merge", into=str(a.id), note="同一摊点")
    assert badge("merged") in body and f'href="/incidents/{a.id}"' in body
    assert b.id in isite.store.incident(a.id).merged
    other = isite.service.locate(*EDGE).grid2.code
    body = act(disp, csrf, a.id, "reassign", grid_code=other, note="实为相邻网格")
    moved = isite.store.incident(a.id)
    assert moved.grid_code == other and moved.worker
    assert "改派" in body and other in body


def test_a_refused_step_shows_the_message_and_changes_nothing(isite, as_role):
    disp, csrf = as_role("dispatcher")
    inc = report(isite, dispatch=True)
    body = act(disp, csrf, inc.id, "close")
    assert "cannot close an incident that is dispatched (allowed now:" in html.unescape(body)
    assert 'class="flash error"' in body
    body = act(disp, csrf, inc.id, "cancel")  # no reason given
    assert "say why or what was done" in body
    body = act(disp, csrf, inc.id, "merge", into="999999")
    assert "no incident 999999" in body
    body = act(disp, csrf, inc.id, "fly")
    assert "unknown incident action" in html.unescape(body)
    assert state_of(isite, inc.id) == "dispatched"
    planner, pcsrf = as_role("planner")  # a role that may not: the 403 page
    resp = planner.post(
        f"/incidents/{inc.id}/act", data={"csrf_token": pcsrf, "action": "cancel", "note": "x"}
    )
    assert resp.status_code == 403 and state_of(isite, inc.id) == "dispatched"
    assert disp.post(f"/incidents/{inc.id}/act", data={"action": "cancel"}).status_code == 400


# ---------------------------------------------------------------------- photos
def test_photos_upload_with_thumbnails(isite, as_role):
    worker, csrf = as_role("worker")
    inc = report(isite, dispatch=True)
    body = act(worker, csrf, inc.id, "photo", files=[jpeg(1600, 1200), jpeg(640, 480)], note="现场")
    photos = isite.store.incident(inc.id).photos
    assert len(photos) == 2
    for p in photos:
        assert f'<a href="/incidents/photos/{p["id"]}"' in body
        assert f'src="/incidents/photos/{p["id"]}?thumb=1"' in body
    full = worker.get(f"/incidents/photos/{photos[0]['id']}")
    thumb = worker.get(f"/incidents/photos/{photos[0]['id']}?thumb=1")
    assert full.mimetype == thumb.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(full.get_data())).size == (1600, 1200)
    assert max(Image.open(io.BytesIO(thumb.get_data())).size) <= 320
    # resolving with a photo puts it on that step of the timeline
    body = act(worker, csrf, inc.id, "resolve", files=[jpeg()], note="已清理")
    assert len(isite.store.incident(inc.id).photos) == 3
    # not an image: refused with the reason, nothing stored
    resp = worker.post(
        f"/incidents/{inc.id}/act",
        data={"csrf_token": csrf, "action": "photo", "photos": [(io.BytesIO(b"GIF89a"), "x.gif")]},
    )
    assert resp.status_code == 302
    assert "a photo must be a JPEG, PNG or WebP image" in page(worker, f"/incidents/{inc.id}")
    assert len(isite.store.incident(inc.id).photos) == 3
    body = act(worker, csrf, inc.id, "photo")  # none chosen
    assert "no photo given" in body


# ---------------------------------------------------------------------- intake
def intake(client, csrf, at, **fields):
    data = {"csrf_token": csrf, "x": str(at[0]), "y": str(at[1]), "crs": "wgs84", **fields}
    return client.post("/incidents/new", data=data)


def test_intake_shows_the_owner_worker_and_nearest_unit(isite, as_role):
    client, csrf = as_role("dispatcher")
    where = isite.service.locate(*HERE)
    body = page(client, f"/incidents/new?x={HERE[0]}&y={HERE[1]}")
    assert where.grid2.name in body and where.grid2.people["worker"] in body
    assert where.grid1.name in body
    units = isite.service.current()[1].nearest_units(*HERE, 1)
    assert units[0].name in body
    assert 'name="category"' in body and "<optgroup" in body
    # the same place from a phone map (GCJ-02) is located in the same grid
    from geogrid.crs import from_wgs84

    gx, gy = from_wgs84(*HERE, "gcj02")
    assert where.grid2.name in page(client, f"/incidents/new?x={gx}&y={gy}&crs=gcj02")
    # from a unit: its grid, and the unit chosen
    code = units[0].code
    body = page(client, f"/incidents/new?unit={code}")
    assert where.grid2.name in body and f'<option value="{code}" selected>' in body
    assert "no unit" in page(client, "/incidents/new?unit=nope", status=404)
    assert "out of range" in page(client, "/incidents/new?x=118.93&y=99", status=400)


def test_intake_near_a_boundary_records_the_confirmed_grid(isite, as_role):
    client, csrf = as_role("dispatcher")
    where = isite.service.locate(*EDGE)
    assert where.needs_confirmation and where.candidates
    body = page(client, f"/incidents/new?x={EDGE[0]}&y={EDGE[1]}")
    for grid in [where.grid2] + [c.grid for c in where.candidates]:
        assert f'name="grid_code" value="{grid.code}"' in body
    chosen = where.candidates[0].grid
    resp = intake(
        client, csrf, EDGE, category="0401", description="无照经营", grid_code=chosen.code,
        reporter="张先生", reporter_contact="13900002222", dispatch="1", checked="1",
    )  # fmt: skip
    assert resp.status_code == 302
    inc = isite.store.incident(int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert (inc.grid_code, inc.state, inc.worker) == (
        chosen.code, "dispatched", chosen.people["worker"],
    )  # fmt: skip
    assert (inc.reporter, inc.reporter_contact) == ("张先生", "13900002222")
    assert "已登记" in page(client, resp.headers["Location"])


def test_intake_shows_possible_duplicates_and_merges(isite, as_role):
    client, csrf = as_role("dispatcher")
    first = report(isite, category="0303", description="道路遗撒", reporter="甲")
    before = len(U.search(isite.service, DISP, wf_query())[1])
    fields = {"category": "0303", "description": "路面有渣土", "reporter": "乙"}
    resp = intake(client, csrf, HERE, **fields)
    assert resp.status_code == 200  # shown again, nothing saved yet
    body = resp.get_data(as_text=True)
    assert "可能重复的事件" in body and f'name="merge_into" value="{first.id}"' in body
    assert 'name="checked" value="1"' in body and "路面有渣土" in body  # the form kept
    assert len(U.search(isite.service, DISP, wf_query())[1]) == before
    # merged into the open one: both reporters kept
    resp = intake(client, csrf, HERE, checked="1", merge_into=str(first.id), **fields)
    assert resp.status_code == 302 and resp.headers["Location"] == f"/incidents/{first.id}"
    target = isite.store.incident(first.id)
    assert len(target.merged) == 1
    dup = isite.store.incident(target.merged[0])
    assert (dup.state, dup.reporter, target.reporter) == ("merged", "乙", "甲")
    assert "已登记并合并到事件" in page(client, f"/incidents/{first.id}")
    # or recorded as a new one after all
    resp = intake(client, csrf, HERE, checked="1", merge_into="", **fields)
    assert resp.status_code == 302
    assert isite.store.incident(int(resp.headers["Location"].rsplit("/", 1)[1])).state == "reported"


def test_intake_by_patrol_and_its_mistakes(isite, as_role):
    client, csrf = as_role("admin")
    resp = intake(
        client, csrf, HERE, category="0105", description="绿地脏乱", channel="patrol",
        informant_kind="greening", informant_name="赵师傅", checked="1",
    )  # fmt: skip
    assert resp.status_code == 302
    inc = isite.store.incident(int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert (inc.channel, inc.informant_kind, inc.informant_name) == ("patrol", "greening", "赵师傅")
    # mistakes come back on the form with the reason, nothing saved
    n = len(U.search(isite.service, DISP, wf_query())[1])
    for fields, message in (
        ({"category": "9999", "description": "x"}, "unknown incident category"),
        ({"category": "", "description": "x"}, "category: the incident's category"),
        ({"category": "0105", "channel": "patrol", "informant_name": ""}, "both a kind and a name"),
        (
            {"category": "0105", "grid_code": "320113005001001"},
            "is not one that may own this place",
        ),
    ):
        resp = intake(client, csrf, HERE, checked="1", informant_kind="greening", **fields)
        assert resp.status_code == 400, fields
        assert message in html.unescape(resp.get_data(as_text=True)), fields
    resp = client.post("/incidents/new", data={"csrf_token": csrf, "category": "0105"})
    assert resp.status_code == 400
    assert len(U.search(isite.service, DISP, wf_query())[1]) == n
    worker, wcsrf = as_role("worker")  # a role that may not report
    assert intake(worker, wcsrf, HERE, category="0105", checked="1").status_code == 403


# ---------------------------------------------------------------------- the catalogue
def test_admins_edit_the_catalogue(make_site, as_role):
    site = make_site()
    client, csrf = as_role("admin", site)
    body = page(client, "/admin/categories?edit=0601")
    assert 'value="井盖破损缺失"' in body and 'value="0601"' in body
    form = {
        "csrf_token": csrf, "code": "0601", "major": "公用设施", "major_en": "Public facilities",
        "minor": "井盖破损缺失", "minor_en": "Broken or missing manhole cover", "workdays": "2",
        "office": "街道城建中心", "active": "1",
    }  # fmt: skip
    resp = client.post("/admin/categories", data=form)
    assert resp.status_code == 302
    assert site.store.catalogue().get("0601").workdays == 2
    new = {**form, "code": "9901", "major": "其他", "minor": "测试类别", "minor_en": "A test"}
    assert client.post("/admin/categories", data=new).status_code == 302
    assert "测试类别" in page(client, "/admin/categories")
    assert "测试类别" in page(client, f"/incidents/new?x={HERE[0]}&y={HERE[1]}")
    new.pop("active")  # retired: kept, no longer offered
    client.post("/admin/categories", data=new)
    assert "9901" not in {c.code for c in site.store.catalogue()}
    assert "停用" in page(client, "/admin/categories")
    assert "测试类别" not in page(client, f"/incidents/new?x={HERE[0]}&y={HERE[1]}")
    for bad, message in (
        ({"workdays": "0"}, "working days"),
        ({"workdays": "two"}, "处置期限须为整数个工作日"),
        ({"code": "61"}, "4 digits"),
    ):
        resp = client.post("/admin/categories", data={**form, **bad})
        assert resp.status_code == 400 and message in resp.get_data(as_text=True), bad
    assert site.store.catalogue().get("0601").workdays == 2
    disp, dcsrf = as_role("dispatcher", site)
    assert disp.post("/admin/categories", data={**form, "csrf_token": dcsrf}).status_code == 403


# ---------------------------------------------------------------------- escaping
def test_user_text_is_escaped_on_every_incident_page(isite, as_role):
    inc = report(
        isite, description=PAYLOAD, address=PAYLOAD, reporter=PAYLOAD,
        reporter_contact=PAYLOAD, category="0201",
    )  # fmt: skip
    U.act(isite.service, DISP, inc.id, "dispatch", note=PAYLOAD)
    client, csrf = as_role("dispatcher")
    resp = intake(client, csrf, HERE, category="0201", description=PAYLOAD)  # the duplicates
    bodies = {
        "list": page(client, f"/incidents?q={inc.id}"),
        "incident": page(client, f"/incidents/{inc.id}"),
        "duplicates": resp.get_data(as_text=True),
        "bad filter": page(client, "/incidents?state=" + PAYLOAD, status=400),
    }
    for what, body in bodies.items():
        for raw in RAW:
            assert raw not in body, what
        assert "&lt;img src=x onerror=alert(1)&gt;" in body, what
