"""Tables for staff accounts, sessions, login throttling, archive and notice.

Everything here is shared by every server process through the database: a
login made against one process is valid on the next, and the throttling of
failed logins counts attempts made against any of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from veiviser.store.models import Base, BigId, utc_now


class StaffAccount(Base):
    """A staff member who may log in to the admin pages."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Stored lower-cased, so "Kari" and "kari" are one account.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    password_changed_at: Mapped[datetime] = mapped_column(default=utc_now)


class StaffSession(Base):
    """A logged-in browser; only the SHA-256 of its cookie is kept."""

    __tablename__ = "staff_session"
    __table_args__ = (Index("ix_staff_session_user", "user_id"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("staff_user.id", ondelete="CASCADE")
    )
    # The synchroniser token every form of this session must send back.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]


class LoginAttempt(Base):
    """A failed login, counted per account name and per client address."""

    __tablename__ = "staff_login_attempt"
    __table_args__ = (
        Index("ix_staff_login_attempt_username", "username", "at"),
        Index("ix_staff_login_attempt_client", "client", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utc_now)


class SetupToken(Base):
    """A one-time link that creates the first administrator of a fresh install."""

    __tablename__ = "staff_setup_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ArchivedIntent(Base):
    """An intent taken out of the knowledge base, kept whole so it can return."""

    __tablename__ = "kb_intent_archive"

    intent_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # The intent as the knowledge-base format describes it (content.Intent).
    data: Mapped[dict[str, Any]]
    archived_at: Mapped[datetime] = mapped_column(default=utc_now)
    archived_by: Mapped[str | None] = mapped_column(String(64))


class Notice(Base):
    """The short notice the widget shows above the chat, with its period."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_by: Mapped[str | None] = mapped_column(String(64))
