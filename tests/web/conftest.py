"""Fixtures of the web tests: the app on SQLite and PostGIS, users of each role, tokens, login.

``site`` is one app on a temporary SQLite file seeded like a fresh installation
(``Service.bootstrap``: the sample district published as version 1) with one user per role
(username = role name, password ``PASSWORDS[role]``) and one API token each (``web_support.py``,
which the benchmarks use too). It is shared by the
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

import pytest
from web_support import PASSWORDS, Site, build_site, seed

from geogrid.db import Store

# --doctest-modules makes pytest import every .py file under testpaths as a module, conftest.py
# files included, under the name "conftest"; a conftest.py in a subfolder collected before this
# file (tests/web/browser/) is then found in its place ("import file mismatch"). This file has no
# doctests: do not collect it as a module (it is still loaded as the folder's conftest).
collect_ignore = ["conftest.py"]

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_CSRF_INPUT = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)


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


@pytest.fixture(params=["sqlite", "postgis"])
def live_db(request, tmp_path):
    """A seeded database of its own on each backend in turn, for real servers (``geogrid
    serve``) to share, and an API token per role: ``(url, tokens)``."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_database")()
    seed(url)
    store = Store(url)
    tokens = {u.role: store.create_token(u.id, "live", actor="tests") for u in store.users()}
    store.dispose()
    return url, tokens
