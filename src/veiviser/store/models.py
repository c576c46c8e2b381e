"""The tables, as typed SQLAlchemy 2 models.

Schema changes go through a new Alembic migration in ``migrations/versions``;
a test checks that the migrations and these models agree on both SQLite and
PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets 64 bits.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always UTC and timezone-aware in Python.

    SQLite keeps no time zone, so values are normalised to UTC on the way in
    and marked as UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use UTC")
        return value.astimezone(UTC)

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every table."""

    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads it as a class attribute)
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


# --- Knowledge base -------------------------------------------------------


class KbMeta(Base):
    """The single row that holds the organisation, texts and revision."""

    __tablename__ = "kb_meta"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation: Mapped[dict[str, Any]]
    texts: Mapped[dict[str, Any]]
    # Bumped on every change, so a process can tell whether its model fits.
    kb_revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class KbGroup(Base):
    """A topic group."""

    __tablename__ = "kb_group"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)


class KbIntent(Base):
    """One intent with its answer; phrases are rows of their own."""

    __tablename__ = "kb_intent"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    group_id: Mapped[str | None] = mapped_column(
        ForeignKey("kb_group.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default="active")
    handover: Mapped[bool] = mapped_column(Boolean, default=False)
    answer: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[Any]]
    personal_answer: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    # For optimistic locking by the admin pages: an edit names the version it
    # started from and fails if someone else saved in between.
    version: Mapped[int] = mapped_column(Integer, default=1)


class KbPhrase(Base):
    """A training phrase of an intent."""

    __tablename__ = "kb_phrase"
    __table_args__ = (Index("ix_kb_phrase_intent", "intent_id", "position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    intent_id: Mapped[str] = mapped_column(
        ForeignKey("kb_intent.id", ondelete="CASCADE")
    )
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    # The member message a phrase was learnt from, when staff adopted one.
    source_message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("message.id", ondelete="SET NULL")
    )


class KbDeclineExample(Base):
    """A message the assistant must decline (trained as out of scope)."""

    __tablename__ = "kb_decline_example"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)


# --- Models ---------------------------------------------------------------


class ModelVersion(Base):
    """A trained model (or a failed attempt) for one knowledge-base revision."""

    __tablename__ = "model_version"
    __table_args__ = (Index("ix_model_version_status", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kb_revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    encoder: Mapped[str] = mapped_column(String(100))
    stats: Mapped[dict[str, Any]]
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)


# --- Conversations --------------------------------------------------------


class Conversation(Base):
    """One member's conversation, addressed by a random id plus a token."""

    __tablename__ = "conversation"
    __table_args__ = (Index("ix_conversation_last_activity", "last_activity_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Only the SHA-256 of the token is kept; a database leak gives no access.
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_activity_at: Mapped[datetime] = mapped_column(default=utc_now)
    state: Mapped[dict[str, Any]]
    # Keyed hash of the browser's random visitor id (insight); never a member.
    visitor_hash: Mapped[str | None] = mapped_column(String(64))


class Message(Base):
    """A member's message (masked) or an assistant's reply with its decision.

    The member's row carries the masked text, the language guess and the
    kinds of personal data masked; the assistant's row carries the rendered
    answer and the decision taken (outcome, intent, confidence, alternatives,
    model version).
    """

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_message_seq"),
        UniqueConstraint("conversation_id", "client_id", name="uq_message_client_id"),
        Index("ix_message_created", "created_at"),
        Index("ix_message_intent", "intent"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    buttons: Mapped[list[Any] | None] = mapped_column(JSON)
    outcome: Mapped[str | None] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(63))
    intents: Mapped[list[Any] | None] = mapped_column(JSON)
    confidence: Mapped[float | None] = mapped_column(Float)
    alternatives: Mapped[list[Any] | None] = mapped_column(JSON)
    model_version_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("model_version.id", ondelete="SET NULL")
    )
    language: Mapped[str | None] = mapped_column(String(8))
    masked: Mapped[list[Any] | None] = mapped_column(JSON)
    # The browser's id for a member message, so a retry is not a second turn.
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Feedback(Base):
    """A member's thumbs up or down on one reply, with an optional comment."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("message.id", ondelete="CASCADE"), unique=True
    )
    rating: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
