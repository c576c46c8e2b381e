"""Insight: daily rollups, visitor hashes, trend flags.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)
_DAY_COUNTS = (
    "conversations",
    "engaged",
    "resolved",
    "handed_over",
    "member_messages",
    "answered",
    "clarified",
    "declined",
    "handovers",
    "feedback_up",
    "feedback_down",
    "new_visitors",
    "returning_visitors",
)


def upgrade() -> None:
    op.create_table(
        "insight_secret",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("retired_at", Stamp, nullable=True),
    )
    op.create_table(
        "insight_day",
        sa.Column("day", sa.Date(), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _DAY_COUNTS),
        sa.Column("computed_at", Stamp, nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "insight_day_intent",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("intent", sa.String(63), primary_key=True),
        sa.Column("outcome", sa.String(16), primary_key=True),
        sa.Column("group_id", sa.String(63), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_insight_day_intent_cover",
        "insight_day_intent",
        ["day", "outcome", "intent", "group_id", "count"],
    )
    op.create_table(
        "insight_day_hour",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("hour", sa.Integer(), primary_key=True),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("member_messages", sa.Integer(), nullable=False),
    )
    op.create_table(
        "insight_alert",
        sa.Column("intent", sa.String(63), primary_key=True),
        sa.Column("window_end", sa.Date(), primary_key=True),
        sa.Column("ratio", sa.Float(), nullable=False),
        sa.Column("sent_at", Stamp, nullable=False),
    )
    # The keyed hash of the browser's random visitor id; never a member id.
    with op.batch_alter_table("conversation") as batch:
        batch.add_column(sa.Column("visitor_hash", sa.String(64), nullable=True))
    # A day's recompute reads the conversations it started and the feedback
    # given on it; first-seen lookups go by visitor hash.
    op.create_index("ix_conversation_created", "conversation", ["created_at"])
    op.create_index(
        "ix_conversation_visitor", "conversation", ["visitor_hash", "created_at"]
    )
    op.create_index("ix_feedback_created", "feedback", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_created", table_name="feedback")
    op.drop_index("ix_conversation_visitor", table_name="conversation")
    op.drop_index("ix_conversation_created", table_name="conversation")
    with op.batch_alter_table("conversation") as batch:
        batch.drop_column("visitor_hash")
    for table in (
        "insight_alert",
        "insight_day_hour",
        "insight_day_intent",
        "insight_day",
        "insight_secret",
    ):
        op.drop_table(table)
