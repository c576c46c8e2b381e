"""Min side: member directory tables.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Placeholder kept in the chain so that the migrations of features built
    # in parallel apply in a fixed order; filled in by its feature.
    pass


def downgrade() -> None:
    pass
