"""Handover: opening hours, advisor queue, live messages, tickets.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)
OPEN = "status IN ('queued', 'active')"
# A working week to start from; the admin page changes it.
DEFAULT_WEEK = [(day, "09:00", "15:00") for day in range(5)]


def upgrade() -> None:
    hours = op.create_table(
        "handover_hours",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("opens", sa.String(5), nullable=False),
        sa.Column("closes", sa.String(5), nullable=False),
    )
    op.create_index("ix_handover_hours_weekday", "handover_hours", ["weekday"])
    op.bulk_insert(
        hours,
        [{"weekday": d, "opens": o, "closes": c} for d, o, c in DEFAULT_WEEK],
    )
    op.create_table(
        "handover_exception",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date(), nullable=False, unique=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("opens", sa.String(5), nullable=True),
        sa.Column("closes", sa.String(5), nullable=True),
        sa.Column("note", sa.String(200), nullable=False),
    )
    op.create_table(
        "handover_presence",
        sa.Column("advisor_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("advisor_name", sa.String(100), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("heartbeat_at", Stamp, nullable=False),
    )
    _create_handover()
    _create_events()
    _create_tickets()


def _create_handover() -> None:
    op.create_table(
        "handover",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversation.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(63), nullable=True),
        sa.Column("topic_title", sa.String(200), nullable=True),
        sa.Column("identity", sa.JSON(), nullable=True),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("advisor_name", sa.String(100), nullable=True),
        sa.Column("requested_at", Stamp, nullable=False),
        sa.Column("first_claimed_at", Stamp, nullable=True),
        sa.Column("claimed_at", Stamp, nullable=True),
        sa.Column("ended_at", Stamp, nullable=True),
        sa.Column("ended_by", sa.String(16), nullable=True),
        sa.Column("requeued", sa.Integer(), nullable=False),
        sa.Column("advisor_heartbeat_at", Stamp, nullable=True),
        sa.Column("member_typing_at", Stamp, nullable=True),
        sa.Column("advisor_typing_at", Stamp, nullable=True),
    )
    op.create_index("ix_handover_status", "handover", ["status", "requested_at"])
    op.create_index("ix_handover_requested", "handover", ["requested_at"])
    op.create_index(
        "uq_handover_open",
        "handover",
        ["conversation_id"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def _create_events() -> None:
    op.create_table(
        "handover_event",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversation.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "handover_id",
            BigId,
            sa.ForeignKey("handover.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("advisor_name", sa.String(100), nullable=True),
        sa.Column("message_seq", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_handover_event_seq"),
        sa.UniqueConstraint(
            "conversation_id", "client_id", name="uq_handover_event_client_id"
        ),
    )


def _create_tickets() -> None:
    op.create_table(
        "handover_ticket",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversation.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("contact", sa.String(200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("topic_title", sa.String(200), nullable=True),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("closed_at", Stamp, nullable=True),
        sa.Column("closed_by", sa.String(100), nullable=True),
    )
    op.create_index(
        "ix_handover_ticket_status", "handover_ticket", ["status", "created_at"]
    )


def downgrade() -> None:
    for table in (
        "handover_ticket",
        "handover_event",
        "handover",
        "handover_presence",
        "handover_exception",
        "handover_hours",
    ):
        op.drop_table(table)
