"""Tables for analytics rollups, the visitor-hash secret and trend alerts.

Nothing here names a member or a conversation: rollups are counts per Oslo
day, so they survive when conversations are purged, and the only trace of a
visitor is a keyed hash kept on the conversation row (deleted with it).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from veiviser.store.models import Base, BigId, Conversation, Feedback, utc_now


class InsightSecret(Base):
    """The server secret that keys visitor hashes; the newest active one is used.

    Rotating adds a new row and retires the old: visitors seen before the
    rotation then count as new, and old hashes can no longer be recomputed.
    """

    __tablename__ = "insight_secret"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    retired_at: Mapped[datetime | None] = mapped_column()


class InsightDay(Base):
    """One Oslo day's totals; recomputed from raw rows until the day is final."""

    __tablename__ = "insight_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    conversations: Mapped[int] = mapped_column(Integer, default=0)
    # Conversations with at least one member message: the base of the
    # conversation rates (a greeting nobody answered is no conversation).
    engaged: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    handed_over: Mapped[int] = mapped_column(Integer, default=0)
    member_messages: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    clarified: Mapped[int] = mapped_column(Integer, default=0)
    declined: Mapped[int] = mapped_column(Integer, default=0)
    handovers: Mapped[int] = mapped_column(Integer, default=0)
    feedback_up: Mapped[int] = mapped_column(Integer, default=0)
    feedback_down: Mapped[int] = mapped_column(Integer, default=0)
    new_visitors: Mapped[int] = mapped_column(Integer, default=0)
    returning_visitors: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(default=utc_now)
    # A final day is never recomputed by the incremental refresh: its raw
    # rows may since have been purged.
    final: Mapped[bool] = mapped_column(Boolean, default=False)


class InsightDayIntent(Base):
    """Replies of one Oslo day per intent and outcome ('' for no intent)."""

    __tablename__ = "insight_day_intent"
    # Covers the dashboard's sums over a range of days, so they never touch
    # the table itself.
    __table_args__ = (
        Index(
            "ix_insight_day_intent_cover",
            "day",
            "outcome",
            "intent",
            "group_id",
            "count",
        ),
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    intent: Mapped[str] = mapped_column(String(63), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    # The intent's topic group when the day was computed, so a year of
    # history keeps its groups after intents move or are deleted.
    group_id: Mapped[str] = mapped_column(String(63), default="")
    count: Mapped[int] = mapped_column(Integer, default=0)


class InsightDayHour(Base):
    """Member messages of one Oslo day per local hour (0-23)."""

    __tablename__ = "insight_day_hour"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The day's weekday (0 = Monday), so the heat map sums in SQL.
    weekday: Mapped[int] = mapped_column(Integer)
    member_messages: Mapped[int] = mapped_column(Integer, default=0)


class InsightAlert(Base):
    """A trend flag that was sent, so that no process sends it twice."""

    __tablename__ = "insight_alert"

    intent: Mapped[str] = mapped_column(String(63), primary_key=True)
    window_end: Mapped[date] = mapped_column(Date, primary_key=True)
    ratio: Mapped[float] = mapped_column(Float)
    sent_at: Mapped[datetime] = mapped_column(default=utc_now)


# Indexes on other modules' tables that the day recompute needs; created by
# this feature's migration (0005).
Index("ix_conversation_created", Conversation.created_at)
Index("ix_conversation_visitor", Conversation.visitor_hash, Conversation.created_at)
Index("ix_feedback_created", Feedback.created_at)
