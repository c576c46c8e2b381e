"""Tables for opening hours, the advisor queue, live events and tickets.

A handover row is one request for a person in one conversation: it is
queued, claimed by one advisor, and ended (by the advisor, the member, or by
handing the conversation back to the assistant). Its timestamps feed the
dashboard. Live messages between member and advisor are events with a
per-conversation sequence number, so any server process can serve either
side and a member who reconnects asks for everything after a number.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from veiviser.store.models import Base, BigId, utc_now

# Handover states. `queued` and `active` are open: the assistant is silent.
QUEUED = "queued"
ACTIVE = "active"
ENDED = "ended"
RETURNED = "returned"
OPEN_STATES = (QUEUED, ACTIVE)


class OpeningHoursSlot(Base):
    """One opening interval on a weekday (0 = Monday), local time HH:MM."""

    __tablename__ = "handover_hours"
    __table_args__ = (Index("ix_handover_hours_weekday", "weekday"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[str] = mapped_column(String(5))
    closes: Mapped[str] = mapped_column(String(5))


class OpeningException(Base):
    """A date with other hours than the week says: closed, or special hours."""

    __tablename__ = "handover_exception"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    closed: Mapped[bool] = mapped_column(Boolean, default=True)
    opens: Mapped[str | None] = mapped_column(String(5))
    closes: Mapped[str | None] = mapped_column(String(5))
    note: Mapped[str] = mapped_column(String(200), default="")


class AdvisorPresence(Base):
    """Whether an advisor takes conversations, with their last heartbeat."""

    __tablename__ = "handover_presence"

    # The staff user's id; no foreign key so the staff tables may evolve.
    advisor_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    advisor_name: Mapped[str] = mapped_column(String(100))
    available: Mapped[bool] = mapped_column(Boolean, default=False)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utc_now)


class Handover(Base):
    """One request for a person in one conversation."""

    __tablename__ = "handover"
    __table_args__ = (
        Index("ix_handover_status", "status", "requested_at"),
        Index("ix_handover_requested", "requested_at"),
        # At most one open handover per conversation, on both databases.
        Index(
            "uq_handover_open",
            "conversation_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'active')"),
            postgresql_where=text("status IN ('queued', 'active')"),
        ),
    )

    # Limitation: on SQLite, without AUTOINCREMENT, the id of the newest
    # handover is given again once its conversation is deleted, so an
    # advisor's page left open on the deleted one shows the next member's
    # chat (advisors may see every chat; PostgreSQL never reuses an id).
    # Retiring it needs a migration that rebuilds the handover tables.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16))
    # Why a person was offered: asked, offer, declines, thumbs_down.
    reason: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(63))
    topic_title: Mapped[str | None] = mapped_column(String(200))
    # Only with the logged-in member's consent: {"member_id", "name"}.
    identity: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    claimed_by: Mapped[int | None] = mapped_column(Integer)
    advisor_name: Mapped[str | None] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(default=utc_now)
    # The first time an advisor took it (waiting time) and the latest claim.
    first_claimed_at: Mapped[datetime | None] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    ended_by: Mapped[str | None] = mapped_column(String(16))
    requeued: Mapped[int] = mapped_column(Integer, default=0)
    advisor_heartbeat_at: Mapped[datetime | None] = mapped_column()
    member_typing_at: Mapped[datetime | None] = mapped_column()
    advisor_typing_at: Mapped[datetime | None] = mapped_column()


class HandoverEvent(Base):
    """Something the member or advisor must see, in per-conversation order."""

    __tablename__ = "handover_event"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_handover_event_seq"),
        UniqueConstraint(
            "conversation_id", "client_id", name="uq_handover_event_client_id"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE")
    )
    handover_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("handover.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    # member, advisor, queued, joined, requeued, returned, ended
    kind: Mapped[str] = mapped_column(String(16))
    # Masked text of a member's message, or an advisor's message.
    text: Mapped[str | None] = mapped_column(Text)
    advisor_name: Mapped[str | None] = mapped_column(String(100))
    # The newest chat message when this happened, to place it in the history.
    message_seq: Mapped[int] = mapped_column(Integer, default=0)
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class HandoverTicket(Base):
    """A message left for the advisors when nobody could take the chat.

    The contact details are the ones the member chose to give, with consent;
    they are kept here only, never in messages or logs, and deleted with the
    ticket under the same retention as conversations.
    """

    __tablename__ = "handover_ticket"
    __table_args__ = (Index("ix_handover_ticket_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    topic_title: Mapped[str | None] = mapped_column(String(200))
    consent_text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by: Mapped[str | None] = mapped_column(String(100))
