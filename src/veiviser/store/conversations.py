"""Conversations, their messages and feedback.

Texts arrive here already masked; this module never sees a member's raw
words.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from veiviser.store.models import Conversation, Feedback, Message, utc_now

MEMBER = "member"
ASSISTANT = "assistant"


def create_conversation(
    session: Session, conversation_id: str, token_hash: str, state: dict[str, Any]
) -> Conversation:
    """Add a new conversation. The caller commits."""
    conversation = Conversation(id=conversation_id, token_hash=token_hash, state=state)
    session.add(conversation)
    session.flush()
    return conversation


def get_conversation(
    session: Session, conversation_id: str, *, for_update: bool = False
) -> Conversation | None:
    """The conversation with this id, locked for the turn when asked."""
    return session.get(Conversation, conversation_id, with_for_update=for_update)


def next_seq(session: Session, conversation_id: str) -> int:
    """The sequence number the next message of a conversation gets."""
    last = session.scalar(
        select(func.max(Message.seq)).where(Message.conversation_id == conversation_id)
    )
    return (last or 0) + 1


def add_message(session: Session, message: Message) -> Message:
    """Store a message and touch its conversation. The caller commits."""
    session.add(message)
    conversation = session.get(Conversation, message.conversation_id)
    if conversation is not None:
        conversation.last_activity_at = utc_now()
    session.flush()
    return message


def list_messages(
    session: Session, conversation_id: str, *, after: int = 0, limit: int = 200
) -> list[Message]:
    """Messages of a conversation in order, those after ``after`` only."""
    query = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq > after)
        .order_by(Message.seq)
        .limit(limit)
    )
    return list(session.scalars(query))


def message_by_client_id(
    session: Session, conversation_id: str, client_id: str
) -> Message | None:
    """The member message a browser sent with this client id, if stored."""
    return session.scalar(
        select(Message).where(
            Message.conversation_id == conversation_id,
            Message.client_id == client_id,
        )
    )


def delete_conversation(session: Session, conversation_id: str) -> bool:
    """Delete a conversation with its messages and feedback; True if it existed."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return False
    # Explicit deletes: SQLite enforces ON DELETE CASCADE only with foreign
    # keys switched on, and this must never depend on that.
    message_ids = select(Message.id).where(Message.conversation_id == conversation_id)
    session.execute(delete(Feedback).where(Feedback.message_id.in_(message_ids)))
    session.execute(delete(Message).where(Message.conversation_id == conversation_id))
    session.delete(conversation)
    session.flush()
    return True


def get_message(session: Session, conversation_id: str, seq: int) -> Message | None:
    """One message of a conversation by its sequence number."""
    return session.scalar(
        select(Message).where(
            Message.conversation_id == conversation_id, Message.seq == seq
        )
    )


def save_feedback(
    session: Session, message_id: int, rating: str, comment: str | None
) -> Feedback:
    """Record feedback on a reply; a second rating replaces the first."""
    feedback = session.scalar(select(Feedback).where(Feedback.message_id == message_id))
    if feedback is None:
        feedback = Feedback(message_id=message_id, rating=rating, comment=comment)
        session.add(feedback)
    else:
        feedback.rating, feedback.comment = rating, comment
        feedback.created_at = utc_now()
    session.flush()
    return feedback
