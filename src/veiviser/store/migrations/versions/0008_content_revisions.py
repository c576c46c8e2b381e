"""Content care: the revision log behind history, rollback and the audit log.

``kb_intent.version`` (optimistic locking) exists since 0001; this adds the
table every recorded change goes into.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "content_revision",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("object_type", sa.String(16), nullable=False),
        sa.Column("object_id", sa.String(100), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("object_version", sa.Integer(), nullable=True),
    )
    op.create_index(
        "ix_content_revision_object",
        "content_revision",
        ["object_type", "object_id", "id"],
    )
    op.create_index("ix_content_revision_at", "content_revision", ["at"])
    op.create_index("ix_content_revision_actor", "content_revision", ["actor", "id"])


def downgrade() -> None:
    op.drop_index("ix_content_revision_actor", table_name="content_revision")
    op.drop_index("ix_content_revision_at", table_name="content_revision")
    op.drop_index("ix_content_revision_object", table_name="content_revision")
    op.drop_table("content_revision")
