"""Tables for opening hours, the advisor queue and tickets."""

from __future__ import annotations

from veiviser.store.models import Base  # noqa: F401
