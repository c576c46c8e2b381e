"""Widget continuity: an idempotency key on member messages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A retried send carries the same client id; the unique pair lets the
    # server recognise it instead of answering the same message twice.
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("client_id", sa.String(64), nullable=True))
        batch.create_unique_constraint(
            "uq_message_client_id", ["conversation_id", "client_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.drop_constraint("uq_message_client_id", type_="unique")
        batch.drop_column("client_id")
