"""Tables for the built-in member directory."""

from __future__ import annotations

from veiviser.store.models import Base  # noqa: F401
