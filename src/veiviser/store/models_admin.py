"""Tables for staff accounts, sessions, revisions and the audit log."""

from __future__ import annotations

from veiviser.store.models import Base  # noqa: F401
