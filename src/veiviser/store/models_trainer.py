"""Tables for the review queue, clusters and tasks."""

from __future__ import annotations

from veiviser.store.models import Base  # noqa: F401
