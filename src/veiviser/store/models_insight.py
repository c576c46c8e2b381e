"""Tables for analytics rollups and trend flags."""

from __future__ import annotations

from veiviser.store.models import Base  # noqa: F401
