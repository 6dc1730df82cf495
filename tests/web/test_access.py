"""Roles on every API operation: the role × operation matrix, from geogrid.access.RULES.

Every /api/ route must have a case here (a new route without one fails the first test), and
each role gets 403 with a JSON message exactly where the rules say it may not.
"""

from __future__ import annotations

import json

import pytest
from web_support import ROLES, WORKER_GRID

from geogrid.access import RULES

POINT = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [118.93, 32.11]}}
#: endpoint -> (method, path, body, operation); operation None: public (no token needed)
CASES = {
    "api.locate": ("GET", "/api/v1/locate?lon=118.93&lat=32.11", None, "locate"),
    "api.locate_many": ("POST", "/api/v1/locate", POINT, "locate_many"),
    "api.grids": ("GET", "/api/v1/grids?level=1&simplify=50", None, "grids"),
    "api.grid": ("GET", f"/api/v1/grids/{WORKER_GRID}", None, "grids"),
    "api.units": ("GET", "/api/v1/units?limit=3", None, "units"),
    "api.versions": ("GET", "/api/v1/versions", None, "versions"),
    "search.search": ("GET", "/api/v1/search?q=xianlin", None, "search"),
    "api.openapi_json": ("GET", "/api/v1/openapi.json", None, None),
    "api.docs": ("GET", "/api/v1/docs", None, None),
}


def test_every_api_route_has_a_rule(site):
    routes = {r.endpoint for r in site.app.url_map.iter_rules() if r.rule.startswith("/api/")}
    assert routes - set(CASES) == set(), "an API route without a case in the role matrix"
    assert {op for *_, op in CASES.values() if op} <= set(RULES)


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
