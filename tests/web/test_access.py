"""Roles on every API operation: the role × operation matrix, from geogrid.access.RULES.

Every /api/ route must have a case here (a new route without one fails the first test), and
each role gets 403 with a JSON message exactly where the rules say it may not.
"""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from web_support import OFFICE, ROLES, WORKER_GRID
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from geogrid.access import RULES, SYSTEM
from geogrid.usecases import exchange, planning
from geogrid.usecases import incidents as uc

POINT = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [118.93, 32.11]}}
#: endpoint -> (method, path, body, operation); operation None: public (no token needed)
CASES = {
    "api.locate": ("GET", "/api/v1/locate?lon=118.93&lat=32.11", None, "locate"),
    "api.locate_many": ("POST", "/api/v1/locate", POINT, "locate_many"),
    "api.grids": ("GET", "/api/v1/grids?level=1&simplify=50", None, "grids"),
    "api.grid": ("GET", f"/api/v1/grids/{WORKER_GRID}", None, "grids"),
    "api.units": ("GET", "/api/v1/units?limit=3", None, "units"),
    "api.versions": ("GET", "/api/v1/versions", None, "versions"),
    "api.version_diff": ("GET", "/api/v1/versions/1/diff/1", None, "grids"),
    "search.search": ("GET", "/api/v1/search?q=xianlin", None, "search"),
    "api.events": ("GET", "/api/v1/events", None, "live_events"),
    "api.openapi_json": ("GET", "/api/v1/openapi.json", None, None),
    "api.docs": ("GET", "/api/v1/docs", None, None),
    "api.figures": ("GET", "/api/v1/figures?by=month&from=2026-01&to=2026-02", None, "figures"),
}


CATEGORY = {"major": "测试", "minor": "测试小类", "workdays": 3, "office": OFFICE}
#: incident endpoints -> (method, path, body, operation, state of a new incident, success
#: status): each request acts on a new incident in the worker's grid, dispatched or escalated to
#: the office user's office (so that every role allowed to reach it sees it)
INCIDENT_CASES = {
    "api.incidents": ("GET", "/api/v1/incidents?state=escalated", None, "read_incidents", None, 200),
    "api.export_incidents": ("GET", "/api/v1/incidents/export?format=csv", None, "read_incidents", None, 200),
    "api.report_incident": ("POST", "/api/v1/incidents", {"x": 118.93, "y": 32.11, "category": "0601"}, "report_incident", None, 201),
    "api.incident_duplicates": ("GET", "/api/v1/incidents/duplicates?lon=118.93&lat=32.11&category=0601", None, "report_incident", None, 200),
    "api.incident": ("GET", "/api/v1/incidents/{incident}", None, "read_incidents", "escalated", 200),
    "api.incident_action": ("POST", "/api/v1/incidents/{incident}/actions", {"action": "escalate", "note": "会办"}, "incident_escalate", "dispatched", 200),
    "api.reassign_incident": ("POST", "/api/v1/incidents/{incident}/reassign", {"worker": "李四", "note": "换人"}, "incident_reassign", "dispatched", 200),
    "api.incident_photos": ("POST", "/api/v1/incidents/{incident}/photos", "photo", "incident_photo", "escalated", 200),
    "api.incident_photo": ("GET", "/api/v1/incidents/photos/{photo}", None, "read_incidents", "escalated", 200),
    "api.categories": ("GET", "/api/v1/incident-categories", None, "read_incidents", None, 200),
    "api.save_category": ("PUT", "/api/v1/incident-categories/9901", CATEGORY, "categories", None, 200),
}  # fmt: skip


#: draft endpoints -> (method, path, body, operation, state of a new draft, success status):
#: each request acts on a new draft ("edited": with one edit; "undone": that edit undone;
#: "stale": another draft published after it was opened; "published": a version after the
#: first one is current)
DRAFT_CASES = {
    "api.drafts": ("GET", "/api/v1/drafts?status=all", None, "drafts", None, 200),
    "api.open_draft": ("POST", "/api/v1/drafts", {"name": "新草稿"}, "edit_draft", None, 201),
    "api.draft": ("GET", "/api/v1/drafts/{draft}", None, "drafts", "edited", 200),
    "api.edit_draft": ("POST", "/api/v1/drafts/{draft}/edits", {"kind": "rename", "code": WORKER_GRID, "name": "改名", "revision": 0}, "edit_draft", "open", 200),
    "api.undo_draft": ("POST", "/api/v1/drafts/{draft}/undo", {"revision": 1}, "edit_draft", "edited", 200),
    "api.redo_draft": ("POST", "/api/v1/drafts/{draft}/redo", {}, "edit_draft", "undone", 200),
    "api.draft_impact": ("GET", "/api/v1/drafts/{draft}/impact", None, "drafts", "edited", 200),
    "api.publish_draft": ("POST", "/api/v1/drafts/{draft}/publish", {"message": "改名"}, "publish", "edited", 200),
    "api.rebase_draft": ("POST", "/api/v1/drafts/{draft}/rebase", {}, "edit_draft", "stale", 200),
    "api.discard_draft": ("POST", "/api/v1/drafts/{draft}/discard", {}, "edit_draft", "open", 200),
    "api.rollback": ("POST", "/api/v1/versions/1/rollback", {"message": "回退"}, "rollback", "published", 200),
    "api.import_draft": ("POST", "/api/v1/drafts/import", "layer", "edit_draft", None, 201),
    "api.export_draft": ("GET", "/api/v1/drafts/{draft}/export?format=geojson", None, "drafts", "edited", 200),
    "api.export_version": ("GET", "/api/v1/versions/1/export?format=geojson&layer=grids1", None, "grids", None, 200),
}  # fmt: skip
_names = iter(range(10**6))

#: early-warning endpoints -> (method, path, body, operation, success status): each request
#: comes after three new reports of one category in the worker's grid (a repeat warning, active
#: again since new incidents joined it)
WARNING_CASES = {
    "api.warnings": ("GET", "/api/v1/warnings?view=all", None, "warnings", 200),
    "api.acknowledge_warning": ("POST", "/api/v1/warnings/{key}/acknowledge", {"note": "已安排排查"}, "acknowledge_warning", 200),
}  # fmt: skip


def _rename(svc, draft_id: int) -> None:
    edit = {"kind": "rename", "code": "320113005001001", "name": f"名字{next(_names)}"}
    planning.edit(svc, SYSTEM, draft_id, edit, 0)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def test_every_api_route_has_a_rule(site):
    routes = {r.endpoint for r in site.app.url_map.iter_rules() if r.rule.startswith("/api/")}
    cases = set(CASES) | set(INCIDENT_CASES) | set(DRAFT_CASES) | set(WARNING_CASES)
    assert routes - cases == set(), "an API route without a case in the role matrix"
    every = [
        *CASES.values(),
        *INCIDENT_CASES.values(),
        *DRAFT_CASES.values(),
        *WARNING_CASES.values(),
    ]
    assert {c[3] for c in every if c[3]} <= set(RULES)


@pytest.fixture(scope="module")
def incident_site(make_site):
    return make_site("sqlite")


@pytest.mark.parametrize("auth", ["token", "session"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(INCIDENT_CASES))
def test_incident_role_matrix(incident_site, role, endpoint, auth, login, csrf_token):
    method, path, body, op, state, ok = INCIDENT_CASES[endpoint]
    site = incident_site
    if state:
        svc = site.service
        inc = uc.report(svc, SYSTEM, 118.93, 32.11, category="0601", dispatch=True)
        if state == "escalated":
            uc.act(svc, SYSTEM, inc.id, "escalate", note="会办", office=OFFICE)
            inc = uc.add_photos(svc, SYSTEM, inc.id, [png()])
        path = path.format(incident=inc.id, photo=inc.photos[-1]["id"] if inc.photos else 0)
    kw = {}
    if body == "photo":
        kw["data"] = {"photos": (io.BytesIO(png()), "p.png"), "note": "现场"}
    elif body is not None:
        kw["json"] = body
    client = site.client()
    if auth == "token":
        headers = site.headers(role)
    else:  # a logged-in user's session; what it changes carries the page's CSRF token
        login(client, role)
        headers = {} if method == "GET" else {"X-CSRFToken": csrf_token(client, "/account/tokens")}
    resp = client.open(path, method=method, headers=headers, **kw)
    if role in RULES[op].roles:
        assert resp.status_code == ok, resp.get_data(as_text=True)[:300]
    else:
        assert resp.status_code == 403
        error = json.loads(resp.get_data())["error"]
        assert error["status"] == 403 and "may not" in error["message"]


@pytest.fixture(scope="module")
def draft_site(make_site):
    return make_site("sqlite")


def _draft(svc, state: str | None) -> int:
    """A new draft in ``state`` (see DRAFT_CASES)."""
    if state == "published":
        other = planning.open_draft(svc, SYSTEM, "已发布").draft.id
        _rename(svc, other)
        planning.publish(svc, SYSTEM, other, "改名")
        return 0
    draft_id = planning.open_draft(svc, SYSTEM, "草稿").draft.id
    if state in ("edited", "undone"):
        _rename(svc, draft_id)
    if state == "undone":
        planning.undo(svc, SYSTEM, draft_id)
    if state == "stale":
        _rename(svc, draft_id)
        other = planning.open_draft(svc, SYSTEM, "抢先").draft.id
        _rename(svc, other)
        planning.publish(svc, SYSTEM, other, "抢先发布")
    return draft_id


@pytest.mark.parametrize("auth", ["token", "session"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(DRAFT_CASES))
def test_draft_role_matrix(draft_site, role, endpoint, auth, login, csrf_token):
    method, path, body, op, state, ok = DRAFT_CASES[endpoint]
    site = draft_site
    if state:
        path = path.format(draft=_draft(site.service, state))
    client = site.client()
    if auth == "token":
        headers = site.headers(role)
    else:
        login(client, role)
        headers = {} if method == "GET" else {"X-CSRFToken": csrf_token(client, "/account/tokens")}
    kw = {"json": body} if body is not None else {}
    if body == "layer":  # a layer exported from version 1, imported as a draft (multipart)
        _, data, _ = exchange.export(site.service, SYSTEM, version=1, fmt="geojson")
        form = {"name": "导入", "file": FileStorage(io.BytesIO(data), filename="grids2.geojson")}
        boundary, encoded = encode_multipart(form)  # in memory (see tests/web/test_exchange.py)
        kw = {"data": encoded, "content_type": f"multipart/form-data; boundary={boundary}"}
    resp = client.open(path, method=method, headers=headers, **kw)
    if role in RULES[op].roles:
        assert resp.status_code == ok, resp.get_data(as_text=True)[:300]
    else:
        assert resp.status_code == 403
        error = json.loads(resp.get_data())["error"]
        assert error["status"] == 403 and "may not" in error["message"]


@pytest.fixture(scope="module")
def warning_site(make_site):
    return make_site("sqlite")


@pytest.mark.parametrize("auth", ["token", "session"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(WARNING_CASES))
def test_warning_role_matrix(warning_site, role, endpoint, auth, login, csrf_token):
    from geogrid.usecases import warnings as uw

    method, path, body, op, ok = WARNING_CASES[endpoint]
    site = warning_site
    for _ in range(3):
        uc.report(site.service, SYSTEM, 118.93, 32.11, category="0601")
    (w,) = uw.warnings(site.service, SYSTEM, rule="repeat")
    path = path.format(key=w.key)
    client = site.client()
    if auth == "token":
        headers = site.headers(role)
    else:
        login(client, role)
        headers = {} if method == "GET" else {"X-CSRFToken": csrf_token(client, "/account/tokens")}
    resp = client.open(path, method=method, headers=headers, **({"json": body} if body else {}))
    if role in RULES[op].roles:
        assert resp.status_code == ok, resp.get_data(as_text=True)[:300]
    else:
        assert resp.status_code == 403
        error = json.loads(resp.get_data())["error"]
        assert error["status"] == 403 and "may not" in error["message"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(k for k, v in CASES.items() if v[3]))
def test_role_matrix(site, role, endpoint):
    method, path, body, op = CASES[endpoint]
    client = site.client()
    kw = {"json": body} if body is not None else {}
    resp = client.open(path, method=method, headers=site.headers(role), **kw)
    if role in RULES[op].roles:
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    else:
        assert resp.status_code == 403
        error = json.loads(resp.get_data())["error"]
        assert error["status"] == 403 and "may not" in error["message"]


def test_a_worker_sees_only_their_own_grids_units(site):
    client = site.client()
    mine = client.get("/api/v1/units?limit=5000", headers=site.headers("worker")).get_json()
    assert mine["total"] > 0
    assert {f["properties"]["grid"] for f in mine["features"]} == {WORKER_GRID}
    other = client.get("/api/v1/units?grid=320113005001001", headers=site.headers("worker"))
    assert other.status_code == 403 and WORKER_GRID in other.get_json()["error"]["message"]
    everyone = client.get("/api/v1/units?limit=5000", headers=site.headers("dispatcher"))
    assert everyone.get_json()["total"] > mine["total"]
