"""The conversation log: member messages with the reply they got, filtered.

Rows are read newest first with keyset paging on the message id, so page 500
costs what page 1 costs on a table of millions; each filter uses an index of
``message`` (see ``store/models_trainer.py``). Nothing here reads who a
member is: a conversation has no member column, and the log shows none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from veiviser.store.conversations import ASSISTANT, MEMBER
from veiviser.store.models import Conversation, Feedback, Message

PAGE = 50
OSLO = ZoneInfo("Europe/Oslo")
# The log's outcome filter names what a member experienced; "answered"
# covers one answer and two answers to a two-question message.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "answered": ("answer", "multi"),
    "clarified": ("clarify",),
    "declined": ("fallback",),
    "handover": ("handover",),
}
FEEDBACK = ("up", "down", "none")


@dataclass(frozen=True)
class LogFilter:
    """What the log shows; empty fields do not filter."""

    start: datetime | None = None
    end: datetime | None = None
    intent: str = ""
    outcome: str = ""
    feedback: str = ""
    language: str = ""


@dataclass(frozen=True)
class LogRow:
    """One member message and the reply to it."""

    message_id: int
    conversation_id: str
    seq: int
    created_at: datetime
    text: str
    language: str | None
    outcome: str | None
    intent: str | None
    confidence: float | None
    rating: str | None
    comment: str | None


@dataclass(frozen=True)
class LogPage:
    """One page of rows and where the next (older) page starts."""

    rows: tuple[LogRow, ...]
    next_before: int | None


def read_log(
    session: Session, wanted: LogFilter, before: int | None = None, page: int = PAGE
) -> LogPage:
    """Member messages matching ``wanted``, newest first, ``page`` at a time."""
    member, reply = aliased(Message), aliased(Message)
    query = (
        select(member, reply, Feedback.rating, Feedback.comment)
        .join(
            reply,
            and_(
                reply.conversation_id == member.conversation_id,
                reply.seq == member.seq + 1,
                reply.role == ASSISTANT,
            ),
        )
        .outerjoin(Feedback, Feedback.message_id == reply.id)
        .where(member.role == MEMBER)
        .order_by(member.id.desc())
        .limit(page + 1)
    )
    if before is not None:
        query = query.where(member.id < before)
    if wanted.start is not None:
        query = query.where(member.created_at >= wanted.start)
    if wanted.end is not None:
        query = query.where(member.created_at < wanted.end)
    if wanted.language:
        query = query.where(member.language == wanted.language)
    if wanted.intent:
        query = query.where(reply.intent == wanted.intent)
    if wanted.outcome in OUTCOMES:
        query = query.where(reply.outcome.in_(OUTCOMES[wanted.outcome]))
    if wanted.feedback in ("up", "down"):
        query = query.where(Feedback.rating == wanted.feedback)
    elif wanted.feedback == "none":
        query = query.where(Feedback.id.is_(None))
    found = session.execute(query).all()
    rows = tuple(_row(*entry) for entry in found[:page])
    more = len(found) > page
    return LogPage(rows, rows[-1].message_id if more and rows else None)


def _row(
    member: Message, reply: Message, rating: str | None, comment: str | None
) -> LogRow:
    return LogRow(
        member.id,
        member.conversation_id,
        member.seq,
        member.created_at,
        member.text or "",
        member.language,
        reply.outcome,
        reply.intent,
        reply.confidence,
        rating,
        comment,
    )


def languages(session: Session) -> list[str]:
    """The language codes member messages have, for the filter's choices."""
    return sorted(
        code
        for code in session.scalars(
            select(Message.language)
            .where(Message.role == MEMBER, Message.language.is_not(None))
            .distinct()
        )
        if code
    )


@dataclass(frozen=True)
class TranscriptLine:
    """One message of a transcript, with the rating of a reply."""

    message: Message
    rating: str | None
    comment: str | None


def transcript(
    session: Session, conversation_id: str
) -> tuple[Conversation, list[TranscriptLine]] | None:
    """A whole conversation in order, or None if it does not exist."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    rows = session.execute(
        select(Message, Feedback.rating, Feedback.comment)
        .outerjoin(Feedback, Feedback.message_id == Message.id)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.seq)
    ).all()
    return conversation, [TranscriptLine(m, r, c) for m, r, c in rows]


def oslo_time(moment: datetime | None) -> str:
    """A stored UTC time as staff read it: Norwegian local time, day first."""
    if moment is None:
        return ""
    return moment.astimezone(OSLO).strftime("%d.%m.%Y %H:%M")
