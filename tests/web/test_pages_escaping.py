"""User content is escaped on every page: a unit, grid, person, user, token and version note named
like an HTML tag is shown as text, never as markup; in JSON it stays data.

A version is published whose names carry the payload, a user and a token are named with it, and
every HTML page (login, map, tokens, users, API docs, error pages) is fetched in both languages:
the raw tag must never appear.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

PAYLOAD = "<img src=x onerror=alert(1)>"
#: What must never appear in a page: the tag as markup (attribute values too: quotes escaped).
RAW = ("<img src=x", "onerror=alert(1)>", '"><img')
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
GRID2 = "320113005007007"
GRID1 = "320113005007"
UNIT_NAME = f"{PAYLOAD}商店"


@pytest.fixture(scope="module")
def evil(make_site):
    """A site whose current version, roster, users and tokens carry the payload."""
    site = make_site()
    store, svc = site.store, site.service
    d = store.load_district(svc.current()[0].id)
    d.grids2.loc[d.grids2["code"] == GRID2, "name"] = PAYLOAD
    d.grids1.loc[d.grids1["code"] == GRID1, "name"] = PAYLOAD
    first = d.units.index[d.units["grid"] == GRID2][0]
    d.units.loc[first, "name"] = UNIT_NAME
    d.units.loc[first, "address"] = PAYLOAD
    d.units.loc[first, "category"] = PAYLOAD
    site.unit_code = d.units.loc[first, "code"]
    v2 = store.create_version(d, actor=PAYLOAD, note=PAYLOAD)
    store.publish(v2.id, actor=PAYLOAD)
    store.assign(svc.district_code, GRID2, "worker", PAYLOAD, PAYLOAD, actor=PAYLOAD)
    store.assign(svc.district_code, GRID1, "leader", PAYLOAD, "1", PAYLOAD, actor=PAYLOAD)
    site.wait_for(
        lambda: site.service.current()[1].locate(118.93, 32.11).grid1.people["leader"] == PAYLOAD,
        what="version 2 and its roster",
    )
    store.create_user(PAYLOAD, "payload-pw-123", "admin", display_name=PAYLOAD, actor="tests")
    store.create_user(
        "evil-worker",
        "payload-pw-456",
        "worker",
        display_name=PAYLOAD,
        grid_code=PAYLOAD,
        actor="t",
    )
    store.create_token(site.user_id(PAYLOAD), PAYLOAD, actor=PAYLOAD)
    return site


def assert_escaped(html: str, what: str) -> None:
    for raw in RAW:
        assert raw not in html, f"{what}: unescaped {raw!r}"


def logged_in(site, username, password, lang, try_login):
    client = site.client()
    client.set_cookie("lang", lang)
    assert try_login(client, username, password).status_code == 302
    return client


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_escape_user_content(evil, lang, csrf_token, try_login):
    admin = logged_in(evil, PAYLOAD, "payload-pw-123", lang, try_login)
    pages = {}
    for path in ("/", "/account/tokens", "/admin/users", "/api/v1/docs", "/login"):
        resp = admin.get(path)
        assert resp.status_code == 200, path
        pages[path] = resp.get_data(as_text=True)
    # the payload is really shown (as text) where user content appears
    assert ESCAPED in pages["/admin/users"]  # username and display name
    assert ESCAPED in pages["/account/tokens"]  # the token's name, and the top bar
    assert ESCAPED in pages["/"] or "\\u003cimg" in pages["/"]  # names on the map
    # a token made with that name: the page that shows it once
    csrf = csrf_token(admin, "/account/tokens")
    resp = admin.post("/account/tokens", data={"csrf_token": csrf, "name": PAYLOAD})
    pages["token created"] = resp.get_data(as_text=True)
    assert ESCAPED in pages["token created"]
    # form errors that echo the input
    for form in (
        {"username": PAYLOAD, "role": "worker", "password": "long-enough-pw"},  # taken
        {"username": "someone", "role": PAYLOAD, "password": "long-enough-pw"},  # no such role
        {"username": PAYLOAD * 20, "role": "worker", "password": "long-enough-pw"},  # too long
    ):
        resp = admin.post(
            "/admin/users", data={"csrf_token": csrf, "display_name": PAYLOAD, **form}
        )
        assert resp.status_code in (400, 409)
        pages[f"users form {form['role']}"] = resp.get_data(as_text=True)
    pages["flash after redirect"] = admin.get("/admin/users").get_data(as_text=True)
    # error pages, with the payload in the URL
    q = quote(PAYLOAD, safe="")
    for path, status in (
        (f"/{q}", 404),
        (f"/account/{q}?next={q}", 404),
        (f"/admin/users/{q}/active", 405),
        ("/logout", 405),
    ):
        resp = admin.get(path)
        assert resp.status_code == status, path
        pages[path] = resp.get_data(as_text=True)
    resp = admin.post(f"/admin/users/{q}/active", data={"active": "0"})  # no CSRF token
    assert resp.status_code == 400
    pages["csrf error"] = resp.get_data(as_text=True)
    worker = logged_in(evil, "evil-worker", "payload-pw-456", lang, try_login)
    resp = worker.get("/admin/users")
    assert resp.status_code == 403
    pages["403"] = resp.get_data(as_text=True)
    assert ESCAPED in pages["403"]  # the worker's display name in the top bar
    anon = evil.client()
    anon.set_cookie("lang", lang)
    for path in (f"/login?next={q}", f"/lang/{q}?next=/login", f"/?{q}={q}"):
        resp = anon.get(path, follow_redirects=True)
        assert resp.status_code == 200, path
        pages[f"anonymous {path}"] = resp.get_data(as_text=True)
    resp = anon.post(
        f"/login?next={q}",
        data={
            "username": PAYLOAD,
            "password": "wrong-password",
            "csrf_token": csrf_token(anon),
        },
    )
    assert resp.status_code == 401
    pages["failed login"] = resp.get_data(as_text=True)
    assert ESCAPED in pages["failed login"]  # the username is put back into the form
    for what, html in pages.items():
        assert_escaped(html, what)


def test_json_keeps_user_content_as_data(evil):
    h = evil.headers("admin")
    c = evil.client()
    a = c.get("/api/v1/locate?lon=118.93&lat=32.11&units=50", headers=h)
    assert a.mimetype == "application/json" and a.headers["X-Content-Type-Options"] == "nosniff"
    body = a.get_json()
    assert body["version"] == 2
    assert body["grid2"]["name"] == PAYLOAD and body["grid2"]["worker"] == PAYLOAD
    assert body["grid1"]["name"] == PAYLOAD and body["grid1"]["leader_title"] == PAYLOAD
    assert UNIT_NAME in {u["name"] for u in body["units"]}
    units = c.get(f"/api/v1/units?q={quote('<img')}", headers=h)
    assert units.mimetype == "application/geo+json"
    (f,) = units.get_json()["features"]
    assert f["properties"]["name"] == UNIT_NAME and f["properties"]["address"] == PAYLOAD
    grids = c.get("/api/v1/grids", headers=h).get_json()["features"]
    assert {g["properties"]["name"] for g in grids} >= {PAYLOAD}
    versions = c.get("/api/v1/versions", headers=h).get_json()["versions"]
    assert versions[0]["note"] == PAYLOAD
    missing = c.get(f"/api/v1/grids/{quote(PAYLOAD, safe='')}", headers=h)
    assert missing.status_code == 404 and missing.mimetype == "application/json"
    assert PAYLOAD in missing.get_json()["error"]["message"]
