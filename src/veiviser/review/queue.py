"""Selecting the member messages a trainer should look at.

A member message is in the queue when the reply to it was a decline, an
answer with low confidence, a clarifying question or a handover, or when
the member rated the reply down, and nobody has decided about it yet. The
reply is the assistant's message right after it (``seq + 1``); for a
clarifying question the member's next message is the option they chose.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, aliased

from veiviser.store.conversations import ASSISTANT, MEMBER
from veiviser.store.models import Feedback, Message
from veiviser.store.models_trainer import ReviewDecision

# An answer below this confidence is shown to the trainer even though it was
# given: the model's decline threshold is usually near 0.35, so answers just
# above it are the ones most often wrong.
LOW_CONFIDENCE = 0.55
# Newest items considered at once; older ones wait until these are handled.
# Limitation: a queue larger than this is reviewed newest first only; page
# through older items (keyset on the message id) if a backlog ever grows so.
MAX_ITEMS = 2000
REASONS = ("declined", "low_confidence", "negative_feedback", "clarified", "handover")


@dataclass(frozen=True)
class Choice:
    """What the member answered to a clarifying question, and how it went."""

    text: str
    outcome: str | None
    intent: str | None


@dataclass(frozen=True)
class QueueItem:
    """One member message in the review queue, with the reply it got."""

    message_id: int
    conversation_id: str
    seq: int
    text: str
    language: str | None
    created_at: datetime
    outcome: str | None
    intent: str | None
    confidence: float | None
    alternatives: tuple[tuple[str, float], ...]
    reasons: tuple[str, ...]
    rating: str | None
    comment: str | None
    choice: Choice | None


def reasons_for(
    outcome: str | None, confidence: float | None, rating: str | None
) -> tuple[str, ...]:
    """Why a message with this reply belongs in the queue (empty: it does not)."""
    found = []
    if outcome == "fallback":
        found.append("declined")
    if outcome == "answer" and confidence is not None and confidence < LOW_CONFIDENCE:
        found.append("low_confidence")
    if rating == "down":
        found.append("negative_feedback")
    if outcome == "clarify":
        found.append("clarified")
    if outcome == "handover":
        found.append("handover")
    return tuple(found)


def _queue_query(limit: int) -> Select:
    member, reply = aliased(Message), aliased(Message)
    chosen, chosen_reply = aliased(Message), aliased(Message)
    return (
        select(member, reply, Feedback.rating, Feedback.comment, chosen, chosen_reply)
        .join(
            reply,
            and_(
                reply.conversation_id == member.conversation_id,
                reply.seq == member.seq + 1,
                reply.role == ASSISTANT,
            ),
        )
        .outerjoin(Feedback, Feedback.message_id == reply.id)
        .outerjoin(ReviewDecision, ReviewDecision.message_id == member.id)
        .outerjoin(
            chosen,
            and_(
                reply.outcome == "clarify",
                chosen.conversation_id == member.conversation_id,
                chosen.seq == member.seq + 2,
                chosen.role == MEMBER,
            ),
        )
        .outerjoin(
            chosen_reply,
            and_(
                chosen_reply.conversation_id == chosen.conversation_id,
                chosen_reply.seq == chosen.seq + 1,
            ),
        )
        .where(
            member.role == MEMBER,
            ReviewDecision.message_id.is_(None),
            or_(
                reply.outcome.in_(("fallback", "clarify", "handover")),
                and_(reply.outcome == "answer", reply.confidence < LOW_CONFIDENCE),
                Feedback.rating == "down",
            ),
        )
        .order_by(member.id.desc())
        .limit(limit)
    )


def select_queue(session: Session, limit: int = MAX_ITEMS) -> list[QueueItem]:
    """The undecided queue items, newest first."""
    items = []
    for member, reply, rating, comment, chosen, chosen_reply in session.execute(
        _queue_query(limit)
    ):
        items.append(_item(member, reply, rating, comment, chosen, chosen_reply))
    return items


def _item(
    member: Message,
    reply: Message,
    rating: str | None,
    comment: str | None,
    chosen: Message | None,
    chosen_reply: Message | None,
) -> QueueItem:
    choice = None
    if chosen is not None:
        choice = Choice(
            chosen.text or "",
            chosen_reply.outcome if chosen_reply else None,
            chosen_reply.intent if chosen_reply else None,
        )
    return QueueItem(
        message_id=member.id,
        conversation_id=member.conversation_id,
        seq=member.seq,
        text=member.text or "",
        language=member.language,
        created_at=member.created_at,
        outcome=reply.outcome,
        intent=reply.intent,
        confidence=reply.confidence,
        alternatives=_alternatives(reply.alternatives),
        reasons=reasons_for(reply.outcome, reply.confidence, rating),
        rating=rating,
        comment=comment,
        choice=choice,
    )


def _alternatives(stored: list | None) -> tuple[tuple[str, float], ...]:
    found = []
    for entry in stored or []:
        if isinstance(entry, dict) and isinstance(entry.get("intent"), str):
            found.append((entry["intent"], float(entry.get("confidence") or 0.0)))
    return tuple(found)


def closest_intents(items: list[QueueItem], top: int = 3) -> list[tuple[str, float]]:
    """The intents a group of messages came closest to, by mean confidence.

    Read from the alternatives stored with each reply, so it shows what the
    model thought at the time, not what it would think now.
    """
    if not items:
        return []
    totals: dict[str, float] = defaultdict(float)
    for item in items:
        for intent, confidence in item.alternatives:
            totals[intent] += confidence
    ranked = sorted(totals.items(), key=lambda pair: (-pair[1], pair[0]))
    return [(intent, total / len(items)) for intent, total in ranked[:top]]
