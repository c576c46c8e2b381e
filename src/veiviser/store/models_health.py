"""Tables for content care: intent-health results and the regression guard.

Every server process reads the newest health result and the guard's checks
from here, so whichever process computed or evaluated them, all show the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from veiviser.store.models import Base, BigId, utc_now


class HealthResult(Base):
    """One computation of intent health for a knowledge-base revision."""

    __tablename__ = "content_health"
    __table_args__ = (Index("ix_content_health_revision", "kb_revision"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kb_revision: Mapped[int] = mapped_column(Integer)
    encoder: Mapped[str] = mapped_column(String(200))
    # ``ready`` (``report`` holds the figures) or ``failed`` (``error`` says why).
    status: Mapped[str] = mapped_column(String(16))
    computed_at: Mapped[datetime] = mapped_column(default=utc_now)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    report: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)


class GuardQuestion(Base):
    """A question that must keep reaching its intent; the text is masked."""

    __tablename__ = "guard_question"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(String(500), unique=True)
    expected_intent: Mapped[str] = mapped_column(String(63))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # The outcome of the newest check: None before the first one.
    last_ok: Mapped[bool | None] = mapped_column(Boolean)
    last_answer: Mapped[str | None] = mapped_column(String(63))
    last_revision: Mapped[int | None] = mapped_column(Integer)


class GuardCheck(Base):
    """The guard's verdict on one saved edit, and the editor's choice."""

    __tablename__ = "guard_check"
    __table_args__ = (Index("ix_guard_check_revision", "kb_revision"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kb_revision: Mapped[int] = mapped_column(Integer)
    intent_id: Mapped[str] = mapped_column(String(63))
    # ``create``, ``save`` or ``archive``: what an undo has to reverse.
    action: Mapped[str] = mapped_column(String(16))
    # The intent as it was before the edit (content.Intent), None if new.
    before: Mapped[dict[str, Any] | None]
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # pending → passed | broken → kept | undone
    status: Mapped[str] = mapped_column(String(16), default="pending")
    model_id: Mapped[int | None] = mapped_column(Integer)
    broken: Mapped[list[Any]] = mapped_column(default=list)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
