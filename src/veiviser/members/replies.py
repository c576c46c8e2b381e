"""Which stored replies use a personal template (and nothing about whom)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from veiviser.store.models import Message
from veiviser.store.models_members import PersonalReply


def mark_personal(
    session: Session, conversation_id: str, seq: int, template: str
) -> None:
    """Record that the reply ``seq`` of a conversation uses a personal template."""
    message_id = session.scalar(
        select(Message.id).where(
            Message.conversation_id == conversation_id, Message.seq == seq
        )
    )
    if message_id is None or session.get(PersonalReply, message_id) is not None:
        return
    session.add(PersonalReply(message_id=message_id, template=template))


def personal_templates(
    session: Session, conversation_id: str, seqs: Sequence[int]
) -> dict[int, str]:
    """The template of each of these replies that has one, by sequence number."""
    if not seqs:
        return {}
    rows = session.execute(
        select(Message.seq, PersonalReply.template)
        .join(PersonalReply, PersonalReply.message_id == Message.id)
        .where(Message.conversation_id == conversation_id, Message.seq.in_(list(seqs)))
    )
    return {seq: template for seq, template in rows}
