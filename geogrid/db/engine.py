"""Connecting to the database: an SQLite file by default, PostgreSQL/PostGIS when configured.

The URL comes from ``$GEOGRID_DATABASE_URL``; without it geogrid uses the SQLite file
``instance/geogrid.sqlite3`` beside the package (the Flask app's instance folder). ``postgresql://``
URLs are driven by psycopg 3.

>>> normalize_url("postgresql://geo@db/geogrid")
'postgresql+psycopg://geo@db/geogrid'
>>> normalize_url("/tmp/x.sqlite3")
'sqlite:////tmp/x.sqlite3'
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from .. import settings
from ..errors import InputError

#: Environment variable holding the database URL.
URL_ENV = "GEOGRID_DATABASE_URL"

default_instance_dir = settings.instance_dir
default_url = settings.database_url


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` (psycopg 3 driver) and bare SQLite file paths."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    return url


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: :func:`default_url`), SQLite set up for several processes."""
    url = normalize_url(url or default_url())
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InputError(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is switched off; a writing transaction takes the
        # write lock when it begins (BEGIN IMMEDIATE), so writers queue on it instead of failing
        # when a read lock cannot be upgraded; readers never wait (WAL)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise InputError(
            f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL"
        )
    return sa.create_engine(url, pool_pre_ping=True)


def _sqlite_begin(conn) -> None:
    write = conn.get_execution_options().get("geogrid_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # transactions are begun explicitly (see make_engine)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "geogrid:db/migrations")
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (creates it on an empty database)."""
    cfg = _alembic_config()
    with engine.connect().execution_options(geogrid_write=True) as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def schema_is_current(engine: Engine) -> bool:
    """Whether the database is at the newest migration."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head
