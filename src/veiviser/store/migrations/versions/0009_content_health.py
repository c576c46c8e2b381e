"""Content care: intent health results and must-keep-working questions.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "content_health",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kb_revision", sa.Integer(), nullable=False),
        sa.Column("encoder", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("computed_at", Stamp, nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_content_health_revision", "content_health", ["kb_revision"])
    op.create_table(
        "guard_question",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("text", sa.String(500), nullable=False, unique=True),
        sa.Column("expected_intent", sa.String(63), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("last_ok", sa.Boolean(), nullable=True),
        sa.Column("last_answer", sa.String(63), nullable=True),
        sa.Column("last_revision", sa.Integer(), nullable=True),
    )
    op.create_table(
        "guard_check",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kb_revision", sa.Integer(), nullable=False),
        sa.Column("intent_id", sa.String(63), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("broken", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", Stamp, nullable=True),
    )
    op.create_index("ix_guard_check_revision", "guard_check", ["kb_revision"])


def downgrade() -> None:
    op.drop_index("ix_guard_check_revision", table_name="guard_check")
    op.drop_table("guard_check")
    op.drop_table("guard_question")
    op.drop_index("ix_content_health_revision", table_name="content_health")
    op.drop_table("content_health")
