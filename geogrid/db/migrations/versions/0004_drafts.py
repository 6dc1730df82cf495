"""the planner's drafts (a base version and its edits, undone ones kept until a new edit) and
units put in a grid by hand (``units.grid_override``, the reason)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import geogrid.db.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_T = geogrid.db.types.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grid_override", sa.String(length=200), nullable=True))

    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=False),
        sa.Column("base_version_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("updated_at", _T(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("published_version_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["base_version_id"], ["versions.id"], name=op.f("fk_drafts_base_version_id_versions")
        ),
        sa.ForeignKeyConstraint(
            ["district_code"], ["districts.code"], name=op.f("fk_drafts_district_code_districts")
        ),
        sa.ForeignKeyConstraint(
            ["published_version_id"],
            ["versions.id"],
            name=op.f("fk_drafts_published_version_id_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
    )
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_drafts_district_code_status"), ["district_code", "status"]
        )

    op.create_table(
        "draft_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("edit", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", _T(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["drafts.id"],
            name=op.f("fk_draft_edits_draft_id_drafts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_edits")),
        sa.UniqueConstraint("draft_id", "seq", name=op.f("uq_draft_edits_draft_id_seq")),
    )


def downgrade() -> None:
    op.drop_table("draft_edits")
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drafts_district_code_status"))
    op.drop_table("drafts")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("grid_override")
