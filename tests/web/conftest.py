"""Fixtures of the web tests: the app on SQLite and PostGIS, users of each role, tokens, login.

``site`` is one app on a temporary SQLite file seeded like a fresh installation
(``Service.bootstrap``: the sample district published as version 1) with one user per role
(username = role name, password ``PASSWORDS[role]``) and one API token each. It is shared by the
whole session: tests that change data (publish, disable a user, revoke a token, change the roster)
make their own with ``make_site()``, which copies a seeded template file (cheap; the first
locator build in each app takes about a second). ``pg_site`` is the same on PostGIS (skipped
without a server, failing under CI=true, see ``tests/conftest.py``), and ``any_site`` runs a test
on both backends.

Test modules use the helpers through fixtures (``login``, ``try_login``, ``csrf_token``,
``passwords``), never ``from conftest import``: several directories have a conftest.py, and which
one such an import finds depends on the order pytest collected them.

Session cookies are not marked Secure in these apps (the test client speaks plain HTTP); pass
``secure_cookies=None`` to ``make_site`` to keep the production default.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field

import pytest

from geogrid.accounts import ROLES as ACCOUNT_ROLES
from geogrid.db import Store
from geogrid.service import Service

ROLES = tuple(ACCOUNT_ROLES)  # dispatcher, planner, worker, admin
PASSWORDS = {role: f"{role}-secret-pw" for role in ROLES}
#: The grid of the worker account (a second-level grid of the sample district).
WORKER_GRID = "320113005007007"
SECRET_KEY = "tests-only-secret-key"

# --doctest-modules makes pytest import every .py file under testpaths as a module, conftest.py
# files included, under the name "conftest"; a conftest.py in a subfolder collected before this
# file (tests/web/browser/) is then found in its place ("import file mismatch"). This file has no
# doctests: do not collect it as a module (it is still loaded as the folder's conftest).
collect_ignore = ["conftest.py"]

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_CSRF_INPUT = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)


def seed(url: str) -> None:
    """A fresh installation at ``url``: schema, sample district as version 1, one user per role."""
    store = Store(url)
    try:
        Service.bootstrap(store)
        for role in ROLES:
            store.create_user(
                role,
                PASSWORDS[role],
                role,
                display_name=f"Test {role}",
                grid_code=WORKER_GRID if role == "worker" else None,
                actor="tests",
            )
    finally:
        store.dispose()


@dataclass
class Site:
    """An app, its database URL and one API token per role."""

    app: object
    url: str
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def store(self) -> Store:
        with self.app.app_context():
            from web.services import store

            return store()

    @property
    def service(self) -> Service:
        with self.app.app_context():
            from web.services import service

            return service()

    def client(self):
        return self.app.test_client()

    def headers(self, role: str) -> dict[str, str]:
        """Headers authenticating as ``role`` with its API token."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def user_id(self, username: str) -> int:
        return next(u.id for u in self.store.users() if u.username == username)

    def wait_for(self, check, timeout: float = 20.0, what: str = "the change"):
        """Call ``check()`` until it returns something true (the app's Service notices changes
        made straight in the database after a moment, like those of another process)."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"the app did not see {what} within {timeout} s")
            time.sleep(0.05)

    def close(self) -> None:
        svc = self.app.extensions.get("geogrid.service")
        if svc is not None:
            if hasattr(svc, "close"):
                svc.close()
            svc.store.dispose()


def build_site(url: str, *, secure_cookies: bool | None = False, **config) -> Site:
    from web import create_app

    settings = {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "TESTING": True, **config}
    if secure_cookies is not None:
        settings["SESSION_COOKIE_SECURE"] = secure_cookies
        settings["REMEMBER_COOKIE_SECURE"] = secure_cookies
    app = create_app(settings)
    site = Site(app, url)
    store = site.store
    for user in store.users():
        if user.role in ROLES and user.username == user.role:
            site.tokens[user.role] = store.create_token(
                user.id, f"{user.role} tests", actor="tests"
            )
    return site


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("web-template") / "seeded.sqlite3"
    seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def make_site(_sqlite_template, tmp_path_factory, request):
    """A factory of new sites: ``make_site(backend="sqlite", secure_cookies=False, **config)``."""
    made: list[Site] = []

    def make(backend: str = "sqlite", **kwargs) -> Site:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("web-site") / "geogrid.sqlite3"
            shutil.copyfile(_sqlite_template, path)
            url = f"sqlite:///{path}"
        elif backend == "postgis":
            url = request.getfixturevalue("pg_database")()
            seed(url)
        else:
            raise ValueError(backend)
        site = build_site(url, **kwargs)
        made.append(site)
        return site

    yield make
    for site in made:
        site.close()


@pytest.fixture(scope="session")
def site(make_site) -> Site:
    """The shared SQLite site (do not change its data: make your own with ``make_site``)."""
    return make_site("sqlite")


@pytest.fixture(scope="session")
def pg_site(make_site) -> Site:
    """The shared PostGIS site."""
    return make_site("postgis")


@pytest.fixture(scope="session", params=["sqlite", "postgis"])
def any_site(request) -> Site:
    """The shared site of each backend in turn."""
    return request.getfixturevalue("site" if request.param == "sqlite" else "pg_site")


@pytest.fixture
def app(site):
    return site.app


@pytest.fixture
def client(site):
    """A fresh test client (no cookies) of the shared site."""
    return site.client()


@pytest.fixture
def tokens(site) -> dict[str, str]:
    return site.tokens


def csrf_token_of(html: str) -> str:
    """The CSRF token in a page (the ``csrf-token`` meta tag or a form's hidden field)."""
    m = _CSRF_META.search(html) or _CSRF_INPUT.search(html)
    assert m, "no CSRF token in the page"
    return next(g for g in m.groups() if g)


def get_csrf_token(client, path: str = "/login") -> str:
    resp = client.get(path)
    assert resp.status_code == 200, (path, resp.status_code)
    return csrf_token_of(resp.get_data(as_text=True))


def do_login(client, username: str, password: str | None = None, *, next_url: str | None = None):
    """Log in through the form (with its CSRF token); returns the response (302 on success)."""
    token = get_csrf_token(client)
    path = "/login" if next_url is None else f"/login?next={next_url}"
    return client.post(
        path,
        data={
            "username": username,
            "password": PASSWORDS.get(username, "") if password is None else password,
            "csrf_token": token,
        },
    )


@pytest.fixture
def csrf_token():
    """``csrf_token(client, path="/login")``: the CSRF token of a page the client gets."""
    return get_csrf_token


@pytest.fixture
def login():
    """``login(client, role)``: log the client in as that role's user (or any username and
    password: ``login(client, name, password)``); returns the client."""

    def _login(client, username: str, password: str | None = None):
        resp = do_login(client, username, password)
        assert resp.status_code == 302, (
            username,
            resp.status_code,
            resp.get_data(as_text=True)[:300],
        )
        return client

    return _login


@pytest.fixture
def try_login():
    """``try_login(client, username, password=None, next_url=None)``: post the login form and
    return the response (302 on success, 401 otherwise)."""
    return do_login


@pytest.fixture
def passwords() -> dict[str, str]:
    """The password of each role's user (the username is the role)."""
    return dict(PASSWORDS)
