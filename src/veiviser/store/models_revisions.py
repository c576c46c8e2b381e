"""The revision log: every change to content, settings and staff accounts.

A revision is written in the same transaction as the change it describes,
so the log never misses a change that was committed, and never shows one
that was rolled back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from veiviser.store.models import Base, BigId, utc_now


class ContentRevision(Base):
    """One recorded change: who, when, what kind, which object, before/after."""

    __tablename__ = "content_revision"
    __table_args__ = (
        Index("ix_content_revision_object", "object_type", "object_id", "id"),
        Index("ix_content_revision_at", "at"),
        Index("ix_content_revision_actor", "actor", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utc_now)
    actor: Mapped[str] = mapped_column(String(64))
    # e.g. intent.edited, phrases.added, user.password_reset (see revisions.KINDS)
    kind: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[str] = mapped_column(String(100))
    # A readable name of the object at the time (an intent's title), searched.
    label: Mapped[str] = mapped_column(String(200))
    # Snapshots as JSON; None where the object did not exist (before a
    # creation, after an archive). Never a password or its hash.
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The intent's version after the change, to name the version a stale
    # editor started from.
    object_version: Mapped[int | None] = mapped_column(Integer)
