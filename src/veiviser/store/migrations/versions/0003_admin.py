"""Admin studio: staff accounts, sessions, throttling, archive, notice.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_user",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("password_changed_at", Stamp, nullable=False),
    )
    op.create_table(
        "staff_session",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            BigId,
            sa.ForeignKey("staff_user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("last_seen_at", Stamp, nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
    )
    op.create_index("ix_staff_session_user", "staff_session", ["user_id"])
    op.create_table(
        "staff_login_attempt",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("at", Stamp, nullable=False),
    )
    op.create_index(
        "ix_staff_login_attempt_username", "staff_login_attempt", ["username", "at"]
    )
    op.create_index(
        "ix_staff_login_attempt_client", "staff_login_attempt", ["client", "at"]
    )
    op.create_table(
        "staff_setup_token",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
        sa.Column("used_at", Stamp, nullable=True),
    )
    op.create_table(
        "kb_intent_archive",
        sa.Column("intent_id", sa.String(63), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("archived_at", Stamp, nullable=False),
        sa.Column("archived_by", sa.String(64), nullable=True),
    )
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("starts_at", Stamp, nullable=True),
        sa.Column("ends_at", Stamp, nullable=True),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("notice")
    op.drop_table("kb_intent_archive")
    op.drop_table("staff_setup_token")
    op.drop_index("ix_staff_login_attempt_client", "staff_login_attempt")
    op.drop_index("ix_staff_login_attempt_username", "staff_login_attempt")
    op.drop_table("staff_login_attempt")
    op.drop_index("ix_staff_session_user", "staff_session")
    op.drop_table("staff_session")
    op.drop_table("staff_user")
