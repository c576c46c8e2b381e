"""Initial schema: knowledge base, models, conversations, messages, feedback.

Revision ID: 0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kb_meta",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation", sa.JSON(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("kb_revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
    )
    op.create_table(
        "kb_group",
        sa.Column("id", sa.String(63), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_table(
        "kb_intent",
        sa.Column("id", sa.String(63), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column(
            "group_id",
            sa.String(63),
            sa.ForeignKey("kb_group.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("handover", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=False),
        sa.Column("personal_answer", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "model_version",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kb_revision", sa.Integer(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("encoder", sa.String(100), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_model_version_status", "model_version", ["status", "id"])
    op.create_table(
        "conversation",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("last_activity_at", Stamp, nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
    )
    op.create_index(
        "ix_conversation_last_activity", "conversation", ["last_activity_at"]
    )
    op.create_table(
        "message",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversation.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("intent", sa.String(63), nullable=True),
        sa.Column("intents", sa.JSON(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("alternatives", sa.JSON(), nullable=True),
        sa.Column(
            "model_version_id",
            BigId,
            sa.ForeignKey("model_version.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("masked", sa.JSON(), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_message_seq"),
    )
    op.create_index("ix_message_created", "message", ["created_at"])
    op.create_index("ix_message_intent", "message", ["intent"])
    op.create_table(
        "kb_phrase",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "intent_id",
            sa.String(63),
            sa.ForeignKey("kb_intent.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "source_message_id",
            BigId,
            sa.ForeignKey("message.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.create_index("ix_kb_phrase_intent", "kb_phrase", ["intent_id", "position"])
    op.create_table(
        "kb_decline_example",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_table(
        "feedback",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "message_id",
            BigId,
            sa.ForeignKey("message.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "feedback",
        "kb_decline_example",
        "kb_phrase",
        "message",
        "conversation",
        "model_version",
        "kb_intent",
        "kb_group",
        "kb_meta",
    ):
        op.drop_table(table)
