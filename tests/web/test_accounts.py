"""Who may see and do what: every route of the app for every role and for anonymous visitors;
login and logout, disabled users, API tokens, CSRF, cookie flags and the language switch."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask import url_for

from geogrid.access import RULES
from geogrid.accounts import ROLES as ACCOUNT_ROLES

# --------------------------------------------------------------------------- the access table
ROLES = tuple(ACCOUNT_ROLES)  # one user per role in every test site, named like the role
#: Endpoints anyone may use without logging in.
PUBLIC = {"auth.login", "i18n.switch", "vendor.vendor", "static", "health.healthz",
          "api.openapi_json", "phone.manifest", "phone.service_worker"}  # fmt: skip
#: Pages under /api/ (they redirect anonymous visitors to the login page like any page).
API_PAGES = {"api.docs"}
#: Endpoints only some roles may use (every other one: any logged-in user).
ONLY = {
    "admin.users": {"admin"},
    "admin.create_user": {"admin"},
    "admin.set_active": {"admin"},
    "incidents.categories": RULES["categories"].roles,
    "incidents.save_category": RULES["categories"].roles,
    "incidents.new": RULES["report_incident"].roles,
    "incidents.create": RULES["report_incident"].roles,
    "planning.plan": RULES["edit_draft"].roles,
    "exchange.plan_import": RULES["edit_draft"].roles,
    "versions.index": RULES["versions"].roles,
    "versions.rollback": RULES["rollback"].roles,
    "warnings.index": RULES["warnings"].roles,
    "warnings.acknowledge": RULES["acknowledge_warning"].roles,
    # the API's operations that not every role may call (the whole matrix: test_access.py)
    "api.locate_many": RULES["locate_many"].roles,
    "api.versions": RULES["versions"].roles,
}
#: Tested on their own below (they log the client in or out).
SPECIAL = {("auth.login", "POST"), ("auth.logout", "POST")}

THROWAWAY = "throwaway-user"
#: Values for URL arguments.
ARGS = {
    "code": "320113005007007",
    "username": THROWAWAY,
    "package": "leaflet",
    "filename": "leaflet.js",
    "fmt": "csv",
}
#: Query strings and bodies that make a valid request of an endpoint and method.
QUERIES = {
    "api.locate": "lon=118.93&lat=32.11",
    "search.search": "q=xhsq",
    "i18n.switch": "next=/account/tokens",
}
STATIC = {"static": {"filename": "app.css"}, "i18n.switch": {"code": "en"}}
POINT_BODY = '{"type": "Point", "coordinates": [118.93, 32.11]}'


@pytest.fixture(scope="module")
def acc_site(make_site):
    """A site of its own: the tests below change users and tokens."""
    site = make_site()
    site.store.create_user(THROWAWAY, "throwaway-pw-1", "worker", actor="tests")
    # a spare token of the admin's: other users may not revoke it (the admin may)
    site.store.create_token(site.user_id("admin"), "spare", actor="tests")
    site.foreign_token_id = max(t["id"] for t in site.store.tokens(site.user_id("admin")))
    return site


#: Open311 knows no sessions, only its api_key: tests/web/test_open311.py covers it. The
#: incident API acts on incidents in states and grids of its own: test_access.py's incident
#: matrix covers it, with tokens and sessions; the drafts API and rollback too (its draft matrix),
#: and the warnings API (its warning matrix: acknowledging needs a warning raised). The OGC API
#: answers with its own exception document: tests/web/test_ogc.py covers it.
OWN_TABLES = (
    "/open311/",
    "/api/v1/incident",
    "/api/v1/drafts",
    "/api/v1/versions/<int:number>/",
    "/api/v1/warnings",
    "/ogc",
)


def routes(app):
    """(rule, method, url) for every rule and method of the app (but those of OWN_TABLES)."""
    out = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
            if rule.rule.startswith(OWN_TABLES):
                continue
            args = dict(STATIC.get(rule.endpoint, {}))
            for name in rule.arguments:
                args.setdefault(name, ARGS.get(name, "1"))
            if "token_id" in rule.arguments:
                args["token_id"] = 0  # replaced per test (see _url)
            url = url_for(rule.endpoint, **args)
            if rule.endpoint in QUERIES:
                url += "?" + QUERIES[rule.endpoint]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((rule, method, url))
    return out


def _url(site, rule, url):
    if "token_id" in rule.arguments:
        return url.replace("/0/", f"/{site.foreign_token_id}/")
    return url


def is_api(rule) -> bool:
    return rule.rule.startswith("/api/") and rule.endpoint not in PUBLIC | API_PAGES


def request(client, method, url, rule, csrf: str | None = None, headers=None):
    headers = dict(headers or {})
    kw = {}
    if method == "POST":
        if is_api(rule):
            headers["Content-Type"] = "application/json"
            kw["data"] = POINT_BODY
            if csrf:
                headers["X-CSRFToken"] = csrf
        else:
            kw["data"] = {"csrf_token": csrf} if csrf else {}
    resp = client.open(url, method=method, headers=headers, **kw)
    resp.close()
    return resp


def assert_login_redirect(resp, what):
    assert resp.status_code == 302, (what, resp.status_code)
    assert urlsplit(resp.headers["Location"]).path == "/login", what


def assert_json_error(resp, status, what):
    assert resp.status_code == status, (what, resp.status_code, resp.get_data(as_text=True)[:200])
    assert resp.mimetype == "application/json", what
    assert resp.get_json()["error"]["status"] == status


def test_the_access_table_names_real_endpoints(acc_site):
    endpoints = {r.endpoint for r in acc_site.app.url_map.iter_rules()}
    for name in PUBLIC | API_PAGES | set(ONLY) | {e for e, _ in SPECIAL} | set(QUERIES):
        assert name in endpoints, name


def test_every_route_for_anonymous_visitors(acc_site, csrf_token):
    client = acc_site.client()
    csrf = csrf_token(client)  # an anonymous session has a CSRF token too
    checked = 0
    for rule, method, url in routes(acc_site.app):
        if (rule.endpoint, method) in SPECIAL:
            continue
        what = f"anonymous {method} {url}"
        resp = request(client, method, _url(acc_site, rule, url), rule, csrf)
        if is_api(rule):
            assert_json_error(resp, 401, what)
        elif rule.endpoint in PUBLIC:
            assert resp.status_code in (200, 302), (what, resp.status_code)
            if resp.status_code == 302:
                assert urlsplit(resp.headers["Location"]).path != "/login", what
        else:
            assert_login_redirect(resp, what)
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_each_role(acc_site, login, role, csrf_token):
    client = login(acc_site.client(), role)
    csrf = csrf_token(client, "/account/tokens")
    for rule, method, url in routes(acc_site.app):
        if (rule.endpoint, method) in SPECIAL:
            continue
        allowed = role in ONLY.get(rule.endpoint, ROLES)
        what = f"{role} {method} {url}"
        sessions = [{}]
        if is_api(rule):  # the API answers a session and a token alike
            sessions.append(acc_site.headers(role))
        for headers in sessions:
            resp = request(client, method, _url(acc_site, rule, url), rule, csrf, headers)
            status = resp.status_code
            assert status < 500, what
            if not allowed:
                assert status == 403, (what, status)
            elif is_api(rule) and (rule.endpoint in QUERIES or method == "POST"):
                assert status == 200, (what, status)
            else:
                assert status not in (401, 403), (what, status)
                if rule.endpoint not in {
                    "admin.create_user",
                    "admin.set_active",
                    "account.revoke_token",
                    "incidents.show",  # incident 1 or photo 1: none in this site (404)
                    "incidents.photo",
                    "incidents.create",  # an empty form: 400 with the reason
                    "exchange.plan_import",  # no file: 400 with the reason
                    "incidents.save_category",
                }:
                    assert status in (200, 302), (what, status)
                if status == 302:
                    assert urlsplit(resp.headers["Location"]).path != "/login", what


@pytest.mark.parametrize("role", ROLES)
def test_pages_every_logged_in_user_sees(acc_site, login, role):
    client = login(acc_site.client(), role)
    for path in ("/", "/account/tokens", "/api/v1/docs"):
        resp = client.get(path)
        assert resp.status_code == 200, (role, path)
        html = resp.get_data(as_text=True)
        assert f"Test {role}" in html  # the top bar names the user
        assert ('href="/admin/users"' in html) == (role == "admin")
    refused = client.get("/admin/users")
    assert refused.status_code == (200 if role == "admin" else 403)
    if role != "admin":  # the use case's refusal, as the translated error page
        assert refused.mimetype == "text/html"
        assert "您的账户无权查看此页面" in refused.get_data(as_text=True)


def test_anonymous_pages_redirect_to_login_and_come_back(acc_site, try_login):
    client = acc_site.client()
    resp = client.get("/account/tokens?x=1")
    assert_login_redirect(resp, "tokens")
    nxt = resp.headers["Location"].split("next=", 1)[1]
    resp = try_login(client, "planner", next_url=nxt)
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/tokens?x=1"


# --------------------------------------------------------------------------- login, logout
def test_login_wrong_password_and_unknown_user(acc_site, try_login):
    client = acc_site.client()
    client.set_cookie("lang", "en")
    for user, pw in (("dispatcher", "wrong-password"), ("nobody", "whatever-123")):
        resp = try_login(client, user, pw)
        assert resp.status_code == 401
        assert "Wrong username or password." in resp.get_data(as_text=True)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "https://evil.example/x", "/\\evil.example", "\\\\evil.example",
     "javascript:alert(1)", "/%0d%0aSet-Cookie:x=1", "evil.example"],
)  # fmt: skip
def test_login_never_redirects_off_site(acc_site, target, try_login):
    from urllib.parse import quote

    resp = try_login(acc_site.client(), "worker", next_url=quote(target, safe=""))
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location == "/" or (location.startswith("/") and not location.startswith(("//", "/\\")))
    assert "evil" not in location or location.startswith("/%")


def test_logout_needs_a_post_with_the_csrf_token(acc_site, login, csrf_token):
    client = login(acc_site.client(), "dispatcher")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token
    assert client.get("/").status_code == 200  # still logged in
    token = csrf_token(client, "/account/tokens")
    resp = client.post("/logout", data={"csrf_token": token})
    assert_login_redirect(resp, "logout")
    assert_login_redirect(client.get("/"), "after logout")
    assert_json_error(client.get("/api/v1/versions"), 401, "API after logout")


# --------------------------------------------------------------------------- disabled users
def test_disabled_users_are_rejected_everywhere(acc_site, login, try_login):
    store = acc_site.store
    store.create_user("to-disable", "disable-me-pw", "dispatcher", actor="tests")
    uid = acc_site.user_id("to-disable")
    token = store.create_token(uid, "to be disabled", actor="tests")
    bearer = {"Authorization": f"Bearer {token}"}
    client = login(acc_site.client(), "to-disable", "disable-me-pw")
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/versions").status_code == 200
    assert acc_site.client().get("/api/v1/versions", headers=bearer).status_code == 200
    store.set_active("to-disable", False, actor="tests")
    assert_login_redirect(client.get("/"), "disabled session, page")
    assert_json_error(client.get("/api/v1/versions"), 401, "disabled session, API")
    assert_json_error(acc_site.client().get("/api/v1/versions", headers=bearer), 401, "token")
    assert try_login(acc_site.client(), "to-disable", "disable-me-pw").status_code == 401
    store.set_active("to-disable", True, actor="tests")
    assert acc_site.client().get("/api/v1/versions", headers=bearer).status_code == 200


# --------------------------------------------------------------------------- tokens
def test_tokens_are_shown_once_work_and_can_be_revoked(acc_site, login, csrf_token):
    client = login(acc_site.client(), "worker")
    csrf = csrf_token(client, "/account/tokens")
    resp = client.post("/account/tokens", data={"csrf_token": csrf, "name": "hotline 12345"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    token = re.search(r'id="new-token">(ggt_[^<]+)<', html).group(1)
    assert "hotline 12345" in html
    again = client.get("/account/tokens").get_data(as_text=True)
    assert token not in again and token[:8] in again  # only the prefix, from now on
    bearer = {"Authorization": f"Bearer {token}"}
    assert (
        acc_site.client().get("/api/v1/locate?lon=118.93&lat=32.11", headers=bearer).status_code
        == 200
    )
    # a wrong token is rejected even with a valid session cookie
    wrong = {"Authorization": f"Bearer {token}x"}
    assert_json_error(
        client.get("/api/v1/locate?lon=118.93&lat=32.11", headers=wrong), 401, "wrong token"
    )
    tid = max(t["id"] for t in acc_site.store.tokens(acc_site.user_id("worker")))
    resp = client.post(f"/account/tokens/{tid}/revoke", data={"csrf_token": csrf})
    assert resp.status_code == 302
    assert_json_error(
        acc_site.client().get("/api/v1/locate?lon=118.93&lat=32.11", headers=bearer), 401, "revoked"
    )
    # revoked twice, or someone else's token: not found
    assert client.post(f"/account/tokens/{tid}/revoke", data={"csrf_token": csrf}).status_code in (
        302,
        404,
    )
    other = acc_site.foreign_token_id
    resp = client.post(f"/account/tokens/{other}/revoke", data={"csrf_token": csrf})
    assert resp.status_code == 404
    admin_token = acc_site.tokens["admin"]
    assert acc_site.client().get("/api/v1/versions", headers={"Authorization": f"Bearer {admin_token}"}).status_code == 200  # fmt: skip


def test_a_token_needs_a_name(acc_site, login, csrf_token):
    client = login(acc_site.client(), "planner")
    client.set_cookie("lang", "en")
    csrf = csrf_token(client, "/account/tokens")
    before = len(acc_site.store.tokens(acc_site.user_id("planner")))
    resp = client.post("/account/tokens", data={"csrf_token": csrf, "name": "  "})
    assert resp.status_code == 302
    assert "Give the token a name" in client.get("/account/tokens").get_data(as_text=True)
    assert len(acc_site.store.tokens(acc_site.user_id("planner"))) == before


def test_text_the_database_cannot_keep_is_a_clear_400_on_both_backends(any_site, login, csrf_token):
    client = login(any_site.client(), "planner")
    csrf = csrf_token(client, "/account/tokens")
    before = len(any_site.store.tokens(any_site.user_id("planner")))
    resp = client.post("/account/tokens", data={"csrf_token": csrf, "name": "12345\x00热线"})
    assert resp.status_code == 400
    assert "NUL characters" in resp.get_data(as_text=True)
    assert len(any_site.store.tokens(any_site.user_id("planner"))) == before


# --------------------------------------------------------------------------- user management
def test_admin_manages_users(acc_site, login, try_login, csrf_token):
    admin = login(acc_site.client(), "admin")
    admin.set_cookie("lang", "en")
    csrf = csrf_token(admin, "/admin/users")
    form = {
        "csrf_token": csrf,
        "username": "new-worker",
        "display_name": "New Worker",
        "role": "worker",
        "grid_code": "320113005001001",
        "password": "Fresh-field-pw-7",
    }
    resp = admin.post("/admin/users", data=form)
    assert resp.status_code == 302
    html = admin.get("/admin/users").get_data(as_text=True)
    assert "new-worker" in html and "Created new-worker." in html
    user = next(u for u in acc_site.store.users() if u.username == "new-worker")
    assert (user.role, user.grid_code, user.display_name) == (
        "worker",
        "320113005001001",
        "New Worker",
    )
    assert try_login(acc_site.client(), "new-worker", "Fresh-field-pw-7").status_code == 302
    # mistakes are reported on the form
    assert admin.post("/admin/users", data=form).status_code == 409  # taken
    assert (
        admin.post("/admin/users", data={**form, "username": "x1", "role": "boss"}).status_code
        == 400
    )
    assert admin.post("/admin/users", data={**form, "username": "x2", "password": "short"}).status_code == 400  # fmt: skip
    # disable, then enable
    resp = admin.post("/admin/users/new-worker/active", data={"csrf_token": csrf, "active": "0"})
    assert resp.status_code == 302
    assert try_login(acc_site.client(), "new-worker", "Fresh-field-pw-7").status_code == 401
    admin.post("/admin/users/new-worker/active", data={"csrf_token": csrf, "active": "1"})
    assert try_login(acc_site.client(), "new-worker", "Fresh-field-pw-7").status_code == 302
    # an admin cannot lock themselves out
    resp = admin.post("/admin/users/admin/active", data={"csrf_token": csrf, "active": "0"})
    assert resp.status_code == 302
    assert "You cannot disable your own account." in admin.get("/admin/users").get_data(
        as_text=True
    )
    assert next(u for u in acc_site.store.users() if u.username == "admin").active
    # an unknown user: not found, no traceback
    resp = admin.post("/admin/users/nobody-here/active", data={"csrf_token": csrf, "active": "0"})
    assert resp.status_code == 404


@pytest.mark.parametrize("role", ["dispatcher", "planner", "worker"])
def test_only_admins_manage_users(acc_site, login, role, csrf_token):
    client = login(acc_site.client(), role)
    csrf = csrf_token(client, "/account/tokens")
    form = {
        "csrf_token": csrf,
        "username": f"by-{role}",
        "role": "admin",
        "password": "sneaky-pw-123",
    }
    assert client.post("/admin/users", data=form).status_code == 403
    assert f"by-{role}" not in {u.username for u in acc_site.store.users()}
    resp = client.post(f"/admin/users/{role}/active", data={"csrf_token": csrf, "active": "0"})
    assert resp.status_code == 403
    assert next(u for u in acc_site.store.users() if u.username == role).active


# --------------------------------------------------------------------------- CSRF
def test_forms_without_the_csrf_token_are_rejected(acc_site, login, passwords):
    client = acc_site.client()
    client.set_cookie("lang", "en")
    resp = client.post("/login", data={"username": "admin", "password": passwords["admin"]})
    assert resp.status_code == 400 and "form has expired" in resp.get_data(as_text=True)
    login(client, "admin")
    acc_site.store.set_active(THROWAWAY, True, actor="tests")
    before = len(acc_site.store.tokens(acc_site.user_id("admin")))
    for path, data in (
        ("/account/tokens", {"name": "no csrf"}),
        ("/admin/users", {"username": "no-csrf", "role": "worker", "password": "no-csrf-pw1"}),
        (f"/admin/users/{THROWAWAY}/active", {"active": "0"}),
        ("/account/tokens", {"name": "bad csrf", "csrf_token": "forged"}),
    ):
        resp = client.post(path, data=data)
        assert resp.status_code == 400, path
        assert resp.mimetype == "text/html"
    assert len(acc_site.store.tokens(acc_site.user_id("admin"))) == before
    assert "no-csrf" not in {u.username for u in acc_site.store.users()}
    assert next(u for u in acc_site.store.users() if u.username == THROWAWAY).active
    # the API: a session POST needs X-CSRFToken, a token POST does not
    api = client.post("/api/v1/locate", data=POINT_BODY, content_type="application/json")
    assert_json_error(api, 400, "API session POST without CSRF")
    ok = acc_site.client().post(
        "/api/v1/locate",
        data=POINT_BODY,
        content_type="application/json",
        headers=acc_site.headers("dispatcher"),
    )
    assert ok.status_code == 200


# --------------------------------------------------------------------------- cookies, language
def test_session_cookie_flags_with_the_default_settings(make_site, try_login):
    site = make_site(secure_cookies=None)  # production defaults
    assert site.app.config["SESSION_COOKIE_SECURE"] is True
    client = site.client()
    resp = try_login(client, "dispatcher")
    assert resp.status_code == 302
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, resp.headers
    flags = {p.strip().split("=")[0].lower(): p.strip() for p in cookies[-1].split(";")[1:]}
    assert "secure" in flags and "httponly" in flags
    assert flags["samesite"].lower() == "samesite=lax"
    # the login page sets its CSRF session with the same flags
    first = site.client().get("/login")
    for c in first.headers.getlist("Set-Cookie"):
        if c.startswith("session="):
            assert "Secure" in c and "HttpOnly" in c and "SameSite=Lax" in c


def test_language_switch_sets_the_cookie_and_the_page_follows(acc_site):
    client = acc_site.client()
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html  # Chinese by default
    resp = client.get("/lang/en?next=/login")
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("lang="))
    assert cookie.startswith("lang=en;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "<strong>English</strong>" in html
    client.get("/lang/zh?next=/login")
    assert '<html lang="zh-CN">' in client.get("/login").get_data(as_text=True)
    resp = client.get("/lang/xx?next=/login")
    assert not [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("lang=")]
    assert client.get("/lang/en?next=//evil.example").headers["Location"] == "/"
