"""Live events of a handover, numbered per conversation.

A member's browser or an advisor's asks for the events after the last
number it saw, so a reconnect gets every event once and in order, whichever
process serves it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from veiviser.store.models import Message
from veiviser.store.models_handover import Handover, HandoverEvent

MEMBER = "member"
ADVISOR = "advisor"
QUEUED = "queued"
JOINED = "joined"
REQUEUED = "requeued"
RETURNED = "returned"
ENDED = "ended"
# Events that carry a text written by a person.
TEXT_KINDS = (MEMBER, ADVISOR)


def append(
    session: Session,
    handover: Handover,
    kind: str,
    now: datetime,
    *,
    text: str | None = None,
    advisor_name: str | None = None,
    client_id: str | None = None,
) -> HandoverEvent:
    """Add an event with the conversation's next number. The caller commits.

    Call it after ``queue.lock`` (or a conditional update of the handover)
    in the same transaction, so two writers never read the same number.
    """
    conversation_id = handover.conversation_id
    last = session.scalar(
        select(func.max(HandoverEvent.seq)).where(
            HandoverEvent.conversation_id == conversation_id
        )
    )
    message_seq = session.scalar(
        select(func.max(Message.seq)).where(Message.conversation_id == conversation_id)
    )
    event = HandoverEvent(
        conversation_id=conversation_id,
        handover_id=handover.id,
        seq=(last or 0) + 1,
        kind=kind,
        text=text,
        advisor_name=advisor_name,
        message_seq=message_seq or 0,
        client_id=client_id,
        created_at=now,
    )
    session.add(event)
    session.flush()
    return event


def after(
    session: Session, conversation_id: str, seq: int, limit: int = 500
) -> list[HandoverEvent]:
    """The conversation's events numbered above ``seq``, in order."""
    query = (
        select(HandoverEvent)
        .where(
            HandoverEvent.conversation_id == conversation_id, HandoverEvent.seq > seq
        )
        .order_by(HandoverEvent.seq)
        .limit(limit)
    )
    return list(session.scalars(query))


def by_client_id(
    session: Session, conversation_id: str, client_id: str
) -> HandoverEvent | None:
    """The member message a browser already sent with this id."""
    return session.scalar(
        select(HandoverEvent).where(
            HandoverEvent.conversation_id == conversation_id,
            HandoverEvent.client_id == client_id,
        )
    )
