"""The web tests' installation and app, for the fixtures in ``conftest.py`` and for the
benchmarks (``bench/tasks_bench.py``): a database seeded like a fresh installation with one user
per role, and an app on it with one API token per role."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from geogrid.accounts import ROLES as ACCOUNT_ROLES
from geogrid.db import Store
from geogrid.service import Service

ROLES = tuple(ACCOUNT_ROLES)  # dispatcher, planner, worker, admin
PASSWORDS = {role: f"Tests-{n}-secret-pw" for n, role in enumerate(ROLES)}
#: The grid of the worker account (a second-level grid of the sample district).
WORKER_GRID = "320113005007007"
#: The service office of the office account (the joint-handling office of several categories).
OFFICE = "城管执法中队"
SECRET_KEY = "tests-only-secret-key"


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
                office=OFFICE if role == "office" else None,
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
