"""Shared fixtures: databases on both backends.

SQLite always runs. PostgreSQL/PostGIS runs when reachable at ``$GEOGRID_TEST_POSTGRES_URL``
(default ``postgresql://postgres@127.0.0.1:5432/postgres``, an account allowed to create
databases); each test session creates its own databases with the postgis extension and drops them
afterwards. Without a server the PostGIS tests are skipped, except under ``CI=true``, where they
fail: CI must run them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid

import pytest
import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get(
    "GEOGRID_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"

# incident photos of the tests' apps go to a folder of this test process, not instance/photos
_PHOTOS = tempfile.mkdtemp(prefix="geogrid-test-photos-")
os.environ["GEOGRID_PHOTO_DIR"] = _PHOTOS


def pytest_unconfigure(config):
    shutil.rmtree(_PHOTOS, ignore_errors=True)


def _pg_admin():
    url = "postgresql+psycopg://" + PG_ADMIN_URL.split("://", 1)[1]
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            has_postgis = conn.execute(
                sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")
            ).scalar()
    except sa.exc.OperationalError as exc:
        engine.dispose()
        return None, f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.orig}"
    if not has_postgis:
        engine.dispose()
        return None, "PostgreSQL has no postgis extension (install postgresql-15-postgis-3)"
    return engine, None


@pytest.fixture(scope="session")
def pg_admin():
    engine, why = _pg_admin()
    if engine is None:
        if IN_CI:
            pytest.fail(f"CI=true but {why}")
        pytest.skip(why)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_database(pg_admin):
    """A factory of fresh PostGIS databases (URLs), all dropped at the end of the session."""
    made = []

    def make() -> str:
        name = f"geogrid_test_{uuid.uuid4().hex[:12]}"
        with pg_admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        return f"{base}/{name}"

    yield make
    with pg_admin.connect() as conn:
        for name in made:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgis"])
def db_url(request, tmp_path):
    """A URL to an empty database, on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'geogrid.sqlite3'}"
    return request.getfixturevalue("pg_database")()
