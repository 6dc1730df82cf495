"""Alembic environment: geogrid runs migrations programmatically (see geogrid.db.engine)."""

from __future__ import annotations

from alembic import context

from geogrid.db.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - geogrid always passes a connection
    raise RuntimeError("run migrations through geogrid.db.upgrade()")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
