"""Min side: member directory tables and personal-reply markers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "member_employer",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "member_representative",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "employer_id",
            sa.String(64),
            sa.ForeignKey("member_employer.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(200), nullable=True),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
    )
    op.create_index(
        "ix_member_representative_employer", "member_representative", ["employer_id"]
    )
    op.create_table(
        "member",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("member_number", sa.String(40), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=True),
        sa.Column(
            "employer_id",
            sa.String(64),
            sa.ForeignKey("member_employer.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.create_table(
        "member_course",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("place", sa.String(200), nullable=True),
    )
    op.create_table(
        "member_enrolment",
        sa.Column(
            "member_id",
            sa.String(128),
            sa.ForeignKey("member.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "course_id",
            sa.String(64),
            sa.ForeignKey("member_course.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_table(
        "member_invoice",
        sa.Column("number", sa.String(40), primary_key=True),
        sa.Column(
            "member_id",
            sa.String(128),
            sa.ForeignKey("member.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
    )
    op.create_index(
        "ix_member_invoice_member", "member_invoice", ["member_id", "due_on"]
    )
    op.create_table(
        "member_key",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "personal_reply",
        sa.Column(
            "message_id",
            BigId,
            sa.ForeignKey("message.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("template", sa.String(63), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "personal_reply",
        "member_key",
        "member_invoice",
        "member_enrolment",
        "member_course",
        "member",
        "member_representative",
        "member_employer",
    ):
        op.drop_table(table)
