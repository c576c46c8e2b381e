"""Tables of the trainer loop: decisions, cluster cache, visits, tasks, erasures.

Rows that point to a member message go with it: their foreign keys cascade,
so the retention purge and an erasure take them along. Nothing here copies a
member's text; it is always read from ``message``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from veiviser.store.models import Base, BigId, Message, utc_now
from veiviser.store.models_admin import StaffAccount  # noqa: F401 (foreign key)

# The conversation log filters member messages and replies by these columns;
# on a table of millions of rows each filter needs its own index.
Index("ix_message_outcome", Message.outcome, Message.id)
Index("ix_message_language", Message.language, Message.id)
Index("ix_message_role", Message.role, Message.id)


class ReviewDecision(Base):
    """What a trainer did with a message of the review queue.

    ``action`` is ``added`` (phrase of an existing intent), ``new_intent``,
    ``out_of_scope`` (decline example) or ``dismissed``. ``kb_revision`` is
    the knowledge-base revision the fix produced: once a model of that
    revision is loaded, the message can be asked again to show the effect.
    """

    __tablename__ = "review_decision"
    __table_args__ = (Index("ix_review_decision_decided", "decided_at"),)

    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("message.id", ondelete="CASCADE"), primary_key=True
    )
    action: Mapped[str] = mapped_column(String(16))
    intent_id: Mapped[str | None] = mapped_column(String(63))
    kb_revision: Mapped[int | None] = mapped_column(Integer)
    decided_by: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime] = mapped_column(default=utc_now)


class ReviewClusters(Base):
    """Clusters computed for one set of queue items (a cache).

    ``key`` is the SHA-256 of the item ids, the vector kind and the
    threshold, so a changed queue is a new row. ``status`` is ``pending``
    while one process computes it, then ``ready``. ``clusters`` holds only
    message ids (lists of ids, typical id first), never text.
    """

    __tablename__ = "review_clusters"
    __table_args__ = (Index("ix_review_clusters_status", "status", "computed_at"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    items: Mapped[int] = mapped_column(Integer)
    vectors: Mapped[str] = mapped_column(String(16))
    clusters: Mapped[list[Any]]
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    computed_at: Mapped[datetime] = mapped_column(default=utc_now)


class ReviewVisit(Base):
    """When a staff member last looked at the queue, to mark what is new."""

    __tablename__ = "review_visit"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True
    )
    # Items newer than this are marked new during the current visit.
    new_after: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class ReviewTask(Base):
    """A message or cluster handed to a colleague, with a note and a status."""

    __tablename__ = "review_task"
    __table_args__ = (Index("ix_review_task_assignee", "assignee_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    assignee_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("staff_user.id", ondelete="CASCADE")
    )
    created_by: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class ReviewTaskMessage(Base):
    """A member message a task is about (a cluster is several)."""

    __tablename__ = "review_task_message"
    __table_args__ = (Index("ix_review_task_message_message", "message_id"),)

    task_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("review_task.id", ondelete="CASCADE"), primary_key=True
    )
    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("message.id", ondelete="CASCADE"), primary_key=True
    )


class ErasureLog(Base):
    """One erasure of conversations: who, when, what kind, how many.

    ``kind`` is ``administrator`` (on a member's request), ``member`` (from
    the widget) or ``purge`` (retention). Never the content, and not the
    conversation id either: the log proves that erasures happen, not what
    was said.
    """

    __tablename__ = "erasure_log"
    __table_args__ = (Index("ix_erasure_log_at", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utc_now)
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(64))
    conversations: Mapped[int] = mapped_column(Integer)
    messages: Mapped[int] = mapped_column(Integer)
    phrases: Mapped[int] = mapped_column(Integer)
