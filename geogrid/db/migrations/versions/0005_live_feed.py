"""the live feed: each incident event carries the scope of its incident (district, grid, worker,
the office it is escalated to), backfilled from the incidents, indexed by (district, id)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COLUMNS = [
    ("district_code", sa.String(length=32)),
    ("grid_code", sa.String(length=32)),
    ("worker", sa.String(length=200)),
    ("office", sa.String(length=200)),
]


def upgrade() -> None:
    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        for name, type_ in _COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    # every event takes its incident's scope as it is now (earlier grids are not recorded)
    op.execute(
        "UPDATE incident_events SET "
        "district_code = (SELECT i.district_code FROM incidents i WHERE i.id = incident_id), "
        "grid_code = (SELECT i.grid_code FROM incidents i WHERE i.id = incident_id), "
        "worker = (SELECT i.worker FROM incidents i WHERE i.id = incident_id), "
        "office = (SELECT CASE WHEN i.escalated_at IS NULL THEN NULL ELSE i.office END "
        "FROM incidents i WHERE i.id = incident_id)"
    )
    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        batch_op.alter_column("district_code", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_incident_events_district_code_id"), ["district_code", "id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_events_district_code_id"))
        for name, _ in reversed(_COLUMNS):
            batch_op.drop_column(name)
