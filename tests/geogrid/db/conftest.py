"""Fixtures of the storage tests: empty and seeded stores on both backends.

``db_url`` (tests/conftest.py) gives an empty database on each backend in turn. Creating the
postgis extension and seeding the sample take about a second on PostgreSQL, so both are done once
per session into template databases (an SQLite file, a PostgreSQL template) that each test
clones: ``store`` is then an empty, migrated store and ``seeded`` one holding the sample district
published as version 1, exactly as ``Store.upgrade()`` and ``seed()`` leave them.
"""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa
from geogrid_db_support import DISTRICT, sample

from geogrid.db import Store
from geogrid.service import Service, seed


@pytest.fixture(scope="session")
def _templates(tmp_path_factory, request):
    """kind ("empty" | "seeded") × backend → a database to clone (SQLite path, PG name)."""
    made = {}

    def get(kind: str, backend: str):
        key = kind, backend
        if key not in made:
            if backend == "sqlite":
                path = tmp_path_factory.mktemp("template") / f"{kind}.sqlite3"
                url = f"sqlite:///{path}"
            else:
                url = request.getfixturevalue("pg_database")()
            s = Store(url)
            s.upgrade()
            if kind == "seeded":
                seed(s, sample(), actor="init-db")
            s.dispose()  # the last connection checkpoints the WAL into the file
            made[key] = path if backend == "sqlite" else url.rsplit("/", 1)[1]
        return made[key]

    return get


def _clone(request, db_url: str, kind: str) -> None:
    """Replace the empty database at ``db_url`` by a copy of the ``kind`` template."""
    templates = request.getfixturevalue("_templates")
    if db_url.startswith("sqlite"):
        src = templates(kind, "sqlite")
        shutil.copyfile(src, db_url.removeprefix("sqlite:///"))
        return
    template = templates(kind, "postgis")
    name = db_url.rsplit("/", 1)[1]
    with request.getfixturevalue("pg_admin").connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))


@pytest.fixture
def store(db_url, request):
    """An empty, migrated store on each backend in turn (a copy of a migrated template)."""
    _clone(request, db_url, "empty")
    s = Store(db_url)
    yield s
    s.dispose()


@pytest.fixture
def seeded(db_url, request):
    """``(store, v1)``: the sample district stored and published as version 1 by ``seed``, on
    each backend in turn."""
    _clone(request, db_url, "seeded")
    s = Store(db_url)
    yield s, s.current_version(DISTRICT)
    s.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def module_url(request, tmp_path_factory):
    """An empty database shared by one module's tests, on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'geogrid.sqlite3'}"
    return request.getfixturevalue("pg_database")()


@pytest.fixture(scope="module")
def module_service(module_url):
    """A :class:`Service` over the sample seeded as version 1 by ``Service.bootstrap``, shared
    by one module's tests (which must only add to the database: incidents, users, drafts)."""
    s = Store(module_url)
    svc = Service.bootstrap(s)
    svc.current()  # the locator is built once, here
    yield svc
    s.dispose()
