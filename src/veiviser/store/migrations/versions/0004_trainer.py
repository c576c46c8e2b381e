"""Trainer loop: review decisions, cluster cache, visits, tasks, erasure log.

Also indexes ``message`` for the conversation log's filters.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)
MESSAGE_INDEXES = {
    "ix_message_outcome": ["outcome", "id"],
    "ix_message_language": ["language", "id"],
    "ix_message_role": ["role", "id"],
}


def upgrade() -> None:
    for name, columns in MESSAGE_INDEXES.items():
        op.create_index(name, "message", columns)
    op.create_table(
        "review_decision",
        sa.Column(
            "message_id",
            BigId,
            sa.ForeignKey("message.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("intent_id", sa.String(63), nullable=True),
        sa.Column("kb_revision", sa.Integer(), nullable=True),
        sa.Column(
            "decided_by",
            BigId,
            sa.ForeignKey("staff_user.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("decided_at", Stamp, nullable=False),
    )
    op.create_index("ix_review_decision_decided", "review_decision", ["decided_at"])
    op.create_table(
        "review_clusters",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("vectors", sa.String(16), nullable=False),
        sa.Column("clusters", sa.JSON(), nullable=False),
        sa.Column("started_at", Stamp, nullable=False),
        sa.Column("computed_at", Stamp, nullable=False),
    )
    op.create_index(
        "ix_review_clusters_status", "review_clusters", ["status", "computed_at"]
    )
    op.create_table(
        "review_visit",
        sa.Column(
            "user_id",
            BigId,
            sa.ForeignKey("staff_user.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("new_after", Stamp, nullable=False),
        sa.Column("last_seen_at", Stamp, nullable=False),
    )
    _create_tasks()
    op.create_table(
        "erasure_log",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("conversations", sa.Integer(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("phrases", sa.Integer(), nullable=False),
    )
    op.create_index("ix_erasure_log_at", "erasure_log", ["at"])


def _create_tasks() -> None:
    op.create_table(
        "review_task",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "assignee_id",
            BigId,
            sa.ForeignKey("staff_user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "created_by",
            BigId,
            sa.ForeignKey("staff_user.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
    )
    op.create_index("ix_review_task_assignee", "review_task", ["assignee_id", "status"])
    op.create_table(
        "review_task_message",
        sa.Column(
            "task_id",
            BigId,
            sa.ForeignKey("review_task.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "message_id",
            BigId,
            sa.ForeignKey("message.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index(
        "ix_review_task_message_message", "review_task_message", ["message_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_erasure_log_at", "erasure_log")
    op.drop_table("erasure_log")
    op.drop_index("ix_review_task_message_message", "review_task_message")
    op.drop_table("review_task_message")
    op.drop_index("ix_review_task_assignee", "review_task")
    op.drop_table("review_task")
    op.drop_table("review_visit")
    op.drop_index("ix_review_clusters_status", "review_clusters")
    op.drop_table("review_clusters")
    op.drop_index("ix_review_decision_decided", "review_decision")
    op.drop_table("review_decision")
    for name in MESSAGE_INDEXES:
        op.drop_index(name, "message")
