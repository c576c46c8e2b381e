"""Handover: opening hours, advisor queue, live messages, tickets.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Placeholder kept in the chain so that the migrations of features built
    # in parallel apply in a fixed order; filled in by its feature.
    pass


def downgrade() -> None:
    pass
