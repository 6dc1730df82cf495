"""the four-step method: incidents' workflow fields, photos, the editable category catalogue
(seeded with geogrid's default), office users

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import geogrid.db.types
from geogrid.incidents.catalogue import default_catalogue

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_T = geogrid.db.types.UTCDateTime
_NEW = [
    ("reporter_contact", sa.String(length=200)),
    ("informant_kind", sa.String(length=32)),
    ("informant_name", sa.String(length=200)),
    ("address", sa.String(length=300)),
    ("unit_code", sa.String(length=32)),
    ("worker", sa.String(length=200)),
    ("office", sa.String(length=200)),
    ("dispatched_at", _T()),
    ("escalated_at", _T()),
    ("office_due_at", _T()),
    ("resolved_at", _T()),
    ("revisit_due_at", _T()),
    ("revisited_at", _T()),
    ("satisfaction", sa.String(length=16)),
]
#: Earlier states and what they are now.
_STATES = {"revisit": "resolved"}
#: The catalogue's "other" category, for incidents recorded with a free-text category.
_OTHER = "1201"


def upgrade() -> None:
    categories = op.create_table(
        "incident_categories",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("major", sa.String(length=100), nullable=False),
        sa.Column("major_en", sa.String(length=200), nullable=False),
        sa.Column("minor", sa.String(length=100), nullable=False),
        sa.Column("minor_en", sa.String(length=200), nullable=False),
        sa.Column("workdays", sa.Integer(), nullable=False),
        sa.Column("office", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_incident_categories")),
    )
    op.bulk_insert(categories, [{**c.to_dict(), "active": True} for c in default_catalogue()])

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("office", sa.String(length=200), nullable=True))

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        for name, type_ in _NEW:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.add_column(
            sa.Column("recurrences", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("merged_into", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("media_url", sa.String(length=500), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_incidents_merged_into_incidents"), "incidents", ["merged_into"], ["id"]
        )
        batch_op.drop_column("subcategory")
        batch_op.drop_index(batch_op.f("ix_incidents_grid_code"))
        batch_op.create_index(
            batch_op.f("ix_incidents_district_code_created_at"),
            ["district_code", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_incidents_grid_code_created_at"), ["grid_code", "created_at"]
        )
        batch_op.create_index(batch_op.f("ix_incidents_category"), ["category"])
        batch_op.create_index(batch_op.f("ix_incidents_office"), ["office"])
        batch_op.create_index(batch_op.f("ix_incidents_merged_into"), ["merged_into"])
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.alter_column("recurrences", server_default=None)

    # incidents recorded before: a free-text category becomes "other", old states their new name
    inc = sa.table("incidents", sa.column("category", sa.String), sa.column("state", sa.String))
    codes = [c.code for c in default_catalogue()]
    op.execute(inc.update().where(inc.c.category.not_in(codes)).values(category=_OTHER))
    for old, new in _STATES.items():
        op.execute(inc.update().where(inc.c.state == old).values(state=new))

    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("action", sa.String(length=16), nullable=False, server_default="report")
        )
        batch_op.add_column(
            sa.Column("detail", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        batch_op.alter_column("action", server_default=None)
        batch_op.alter_column("detail", server_default=None)

    op.create_table(
        "incident_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["incident_events.id"],
            name=op.f("fk_incident_photos_event_id_incident_events"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_photos_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_photos")),
        sa.UniqueConstraint("key", name=op.f("uq_incident_photos_key")),
    )
    with op.batch_alter_table("incident_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_photos_incident_id"), ["incident_id"])


def downgrade() -> None:
    with op.batch_alter_table("incident_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_photos_incident_id"))
    op.drop_table("incident_photos")
    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        batch_op.drop_column("detail")
        batch_op.drop_column("action")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        for name in ("merged_into", "office", "category", "grid_code_created_at"):
            batch_op.drop_index(batch_op.f(f"ix_incidents_{name}"))
        batch_op.drop_index(batch_op.f("ix_incidents_district_code_created_at"))
        batch_op.create_index(batch_op.f("ix_incidents_grid_code"), ["grid_code"])
        batch_op.add_column(sa.Column("subcategory", sa.String(length=100), nullable=True))
        batch_op.drop_constraint(
            batch_op.f("fk_incidents_merged_into_incidents"), type_="foreignkey"
        )
        batch_op.drop_column("media_url")
        batch_op.drop_column("merged_into")
        batch_op.drop_column("recurrences")
        for name, _ in reversed(_NEW):
            batch_op.drop_column(name)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("office")
    op.drop_table("incident_categories")
