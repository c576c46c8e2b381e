"""Insight: daily rollups, visitor hashes, trend flags.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Placeholder kept in the chain so that the migrations of features built
    # in parallel apply in a fixed order; filled in by its feature.
    pass


def downgrade() -> None:
    pass
