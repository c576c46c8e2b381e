"""Erasing a conversation, what was learnt from it, and the record of it.

Union membership is special-category personal data: a member (from the
widget) or an administrator (on the member's request) can erase a whole
conversation. Training phrases adopted from its messages go with it, and so
do decline examples a trainer made from them. The erasure log keeps who,
when, what kind and how many; never what was said.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from veiviser.content.model import OUT_OF_SCOPE
from veiviser.service import revisions
from veiviser.store import conversations as repo
from veiviser.store.knowledge import META_ID
from veiviser.store.models import (
    Conversation,
    KbDeclineExample,
    KbMeta,
    KbPhrase,
    Message,
    utc_now,
)
from veiviser.store.models_trainer import ErasureLog, ReviewDecision

KINDS = ("administrator", "member", "purge")


@dataclass(frozen=True)
class Erased:
    """What one erasure removed."""

    conversations: int
    messages: int
    phrases: int

    @property
    def changed_knowledge(self) -> bool:
        """Whether the knowledge base lost something (a new model is due)."""
        return self.phrases > 0


NOTHING = Erased(0, 0, 0)


def learnt_from(session: Session, conversation_id: str) -> tuple[int, int]:
    """How many phrases and decline examples came from this conversation."""
    ids = select(Message.id).where(Message.conversation_id == conversation_id)
    phrases = session.scalar(
        select(func.count())
        .select_from(KbPhrase)
        .where(KbPhrase.source_message_id.in_(ids))
    )
    declines = session.scalar(
        select(func.count())
        .select_from(KbDeclineExample)
        .where(KbDeclineExample.text.in_(_declined_texts(conversation_id)))
    )
    return phrases or 0, declines or 0


def _declined_texts(conversation_id: str):
    return (
        select(Message.text)
        .join(ReviewDecision, ReviewDecision.message_id == Message.id)
        .where(
            Message.conversation_id == conversation_id,
            ReviewDecision.action == "out_of_scope",
            # Only examples the trainer added; one that was in the knowledge
            # base before belongs to the editors, not to this conversation.
            ReviewDecision.intent_id == OUT_OF_SCOPE,
        )
    )


# Limitation: the daily rollups (veiviser.insight) keep an erased
# conversation's counts only for days already final (two days after they
# ended); a day still being recomputed loses them, so the statistics of the
# last two days can drop by what was erased. Recording per-day deltas before
# deleting would retire this.
def erase_conversation(session: Session, conversation_id: str) -> Erased:
    """Delete a conversation with its messages and what was learnt from them.

    The caller commits, and records the erasure with ``record_erasure`` in
    the same transaction. When phrases or decline examples go, the
    knowledge-base revision is bumped so that a new model is trained. Stored
    models keep the words they were trained on, so the erasure log's phrase
    count makes that training a full one, after which every older model
    version is deleted (``veiviser.service.training``).
    """
    if session.get(Conversation, conversation_id) is None:
        return NOTHING
    phrases, declines = learnt_from(session, conversation_id)
    if phrases or declines:
        _forget_learnt(session, conversation_id)
    messages = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.conversation_id == conversation_id)
    )
    # Rows of the trainer loop pointing at these messages go first, for a
    # SQLite database opened without foreign keys.
    ids = select(Message.id).where(Message.conversation_id == conversation_id)
    session.execute(delete(ReviewDecision).where(ReviewDecision.message_id.in_(ids)))
    repo.delete_conversation(session, conversation_id)
    return Erased(1, messages or 0, phrases + declines)


def _forget_learnt(session: Session, conversation_id: str) -> None:
    # Writing the meta row first takes the knowledge base's lock, as an edit
    # in the studio does, so the two cannot interleave.
    meta = session.get(KbMeta, META_ID, with_for_update=True)
    if meta is not None:
        meta.kb_revision += 1
        meta.updated_at = utc_now()
        session.flush()
    ids = select(Message.id).where(Message.conversation_id == conversation_id)
    declined = list(session.scalars(_declined_texts(conversation_id)))
    learnt = select(KbPhrase.text).where(KbPhrase.source_message_id.in_(ids))
    revisions.forget_texts(session, [*session.scalars(learnt), *declined])
    session.execute(delete(KbPhrase).where(KbPhrase.source_message_id.in_(ids)))
    if declined:
        session.execute(
            delete(KbDeclineExample).where(KbDeclineExample.text.in_(declined))
        )


def record_erasure(
    session: Session, kind: str, actor: str | None, erased: Erased
) -> None:
    """Add one line to the erasure log (in the caller's transaction).

    Args:
        kind: ``administrator``, ``member`` or ``purge``.
        actor: the administrator's username; None for members and purges.
        erased: the counts; a purge passes its own totals.
    """
    if kind not in KINDS:
        raise ValueError(f"erasure kind {kind!r} is not one of {KINDS}")
    session.add(
        ErasureLog(
            at=utc_now(),
            kind=kind,
            actor=actor,
            conversations=erased.conversations,
            messages=erased.messages,
            phrases=erased.phrases,
        )
    )
