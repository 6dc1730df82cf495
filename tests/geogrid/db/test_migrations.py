"""The Alembic migrations create exactly the schema of ``geogrid.db.schema``, once."""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from geogrid.db import Store
from geogrid.db.engine import schema_is_current
from geogrid.db.schema import metadata

#: Tables the postgis extension brings with it.
POSTGIS_TABLES = {"spatial_ref_sys"}


def layout(store: Store) -> dict:
    """Tables, columns, indexes, keys and the migration revision, as the database reports them."""
    with warnings.catch_warnings():
        # SQLAlchemy does not know PostGIS' geometry type and says so when it reflects one
        warnings.filterwarnings("ignore", "Did not recognize type 'geometry'", sa.exc.SAWarning)
        insp = sa.inspect(store.engine)
        out = {}
        for name in sorted(set(insp.get_table_names()) - POSTGIS_TABLES):
            out[name] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(name)
                ],
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in insp.get_indexes(name)
                ),
                "pk": insp.get_pk_constraint(name)["constrained_columns"],
                "fks": sorted(
                    (tuple(f["constrained_columns"]), f["referred_table"])
                    for f in insp.get_foreign_keys(name)
                ),
                "unique": sorted(
                    tuple(u["column_names"]) for u in insp.get_unique_constraints(name)
                ),
            }
    with store.engine.connect() as conn:
        out["revision"] = MigrationContext.configure(conn).get_current_revision()
    return out


def test_upgrade_creates_exactly_the_schema_tables(db_url):
    store = Store(db_url)  # a database without any table
    try:
        assert not schema_is_current(store.engine)
        store.upgrade()
        assert schema_is_current(store.engine)
        tables = set(sa.inspect(store.engine).get_table_names()) - POSTGIS_TABLES
        assert tables == set(metadata.tables) | {"alembic_version"}
        got = layout(store)
        for table in metadata.sorted_tables:
            assert [c[0] for c in got[table.name]["columns"]] == [c.name for c in table.columns]
            assert [c[2] for c in got[table.name]["columns"]] == [c.nullable for c in table.columns]
            assert got[table.name]["pk"] == [c.name for c in table.primary_key.columns]
            want_ix = {ix.name for ix in table.indexes}
            assert want_ix <= {i[0] for i in got[table.name]["indexes"]}
    finally:
        store.dispose()


def test_upgrade_twice_is_a_no_op(store):
    first = layout(store)
    store.create_user("admin", "long-enough-pw", "admin")
    store.upgrade()
    assert layout(store) == first
    assert [u.username for u in store.users()] == ["admin"]
    assert schema_is_current(store.engine)


def test_migrations_match_the_model(tmp_path):
    """Alembic autogenerate finds nothing to change between the migrated database and
    ``schema.metadata`` (types included) - the migration and the model agree."""
    store = Store(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    try:
        store.upgrade()
        with store.engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            diff = compare_metadata(ctx, metadata)
        assert diff == []
    finally:
        store.dispose()


def test_postgis_migration_matches_the_model_but_for_gist_indexes(pg_database):
    store = Store(pg_database())
    try:
        store.upgrade()

        def include(obj, name, type_, reflected, compare_to):
            if type_ == "table" and name in POSTGIS_TABLES:
                return False
            return not (type_ == "index" and name.endswith("_geom"))

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Did not recognize type 'geometry'", sa.exc.SAWarning)
            with store.engine.connect() as conn:
                ctx = MigrationContext.configure(conn, opts={"include_object": include})
                diff = compare_metadata(ctx, metadata)
        assert diff == []
        with store.engine.connect() as conn:
            gist = set(
                conn.execute(
                    sa.text("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%USING gist%'")
                ).scalars()
            )
        assert gist == {"ix_grids_geom", "ix_units_geom", "ix_incidents_geom"}
    finally:
        store.dispose()
