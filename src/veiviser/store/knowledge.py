"""The knowledge base in the database: read it whole, or replace it whole.

The tables mirror :mod:`veiviser.content` one to one, so reading gives back
exactly the knowledge base that was written (the order of everything kept).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from veiviser.content import Group, Intent, KnowledgeBase, Organisation
from veiviser.store.models import (
    KbDeclineExample,
    KbGroup,
    KbIntent,
    KbMeta,
    KbPhrase,
    utc_now,
)

META_ID = 1


def kb_revision(session: Session) -> int:
    """The revision of the stored knowledge base; 0 when there is none."""
    revision = session.scalar(select(KbMeta.kb_revision).where(KbMeta.id == META_ID))
    return revision or 0


def has_knowledge_base(session: Session) -> bool:
    """Whether a knowledge base has been stored."""
    return session.get(KbMeta, META_ID) is not None


def read_knowledge_base(session: Session) -> KnowledgeBase | None:
    """The stored knowledge base, or None before the first import."""
    meta = session.get(KbMeta, META_ID)
    if meta is None:
        return None
    groups = session.scalars(select(KbGroup).order_by(KbGroup.position)).all()
    intents = session.scalars(select(KbIntent).order_by(KbIntent.position)).all()
    phrases = _phrases_by_intent(session)
    declines = session.scalars(
        select(KbDeclineExample.text).order_by(KbDeclineExample.position)
    ).all()
    return KnowledgeBase(
        organisation=Organisation.model_validate(meta.organisation),
        texts=dict(meta.texts),
        groups=[Group(id=g.id, title=g.title) for g in groups],
        intents=[_intent_from_row(row, phrases[row.id]) for row in intents],
        decline_examples=list(declines),
    )


def _phrases_by_intent(session: Session) -> dict[str, list[str]]:
    rows = session.execute(
        select(KbPhrase.intent_id, KbPhrase.text).order_by(
            KbPhrase.intent_id, KbPhrase.position
        )
    )
    phrases: dict[str, list[str]] = defaultdict(list)
    for intent_id, text in rows:
        phrases[intent_id].append(text)
    return phrases


def _intent_from_row(row: KbIntent, phrases: list[str]) -> Intent:
    return Intent.model_validate(
        {
            "id": row.id,
            "title": row.title,
            "group": row.group_id,
            "status": row.status,
            "handover": row.handover,
            "phrases": phrases,
            "answer": row.answer,
            "buttons": row.buttons,
            "personal_answer": row.personal_answer,
        }
    )


def replace_knowledge_base(session: Session, kb: KnowledgeBase) -> int:
    """Make the stored knowledge base equal to ``kb`` and bump the revision.

    Intents that did not change keep their version; phrases that stay keep
    the message they were learnt from. The caller commits.

    Returns:
        The new knowledge-base revision.
    """
    meta = session.get(KbMeta, META_ID, with_for_update=True)
    if meta is None:
        meta = KbMeta(id=META_ID, organisation={}, texts={}, kb_revision=0)
        session.add(meta)
    meta.organisation = kb.organisation.model_dump(mode="json")
    meta.texts = dict(kb.texts)
    meta.kb_revision += 1
    meta.updated_at = utc_now()

    _sync_groups(session, kb)
    _sync_intents(session, kb)
    _sync_phrases(session, kb)
    _sync_declines(session, kb)
    session.execute(delete(KbGroup).where(KbGroup.id.not_in([g.id for g in kb.groups])))
    session.flush()
    return meta.kb_revision


def _sync_groups(session: Session, kb: KnowledgeBase) -> None:
    existing = {row.id: row for row in session.scalars(select(KbGroup))}
    for position, group in enumerate(kb.groups):
        row = existing.get(group.id)
        if row is None:
            session.add(KbGroup(id=group.id, title=group.title, position=position))
        else:
            row.title, row.position = group.title, position
    session.flush()


def _sync_intents(session: Session, kb: KnowledgeBase) -> None:
    existing = {row.id: row for row in session.scalars(select(KbIntent))}
    for position, intent in enumerate(kb.intents):
        fields = _intent_fields(intent)
        row = existing.get(intent.id)
        if row is None:
            session.add(KbIntent(id=intent.id, position=position, version=1, **fields))
            continue
        row.position = position
        if any(getattr(row, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(row, name, value)
            row.version += 1
    kept = [intent.id for intent in kb.intents]
    session.execute(delete(KbIntent).where(KbIntent.id.not_in(kept)))
    session.flush()


def _intent_fields(intent: Intent) -> dict[str, Any]:
    return {
        "title": intent.title,
        "group_id": intent.group,
        "status": intent.status,
        "handover": intent.handover,
        "answer": intent.answer,
        "buttons": [b.model_dump(mode="json") for b in intent.buttons],
        "personal_answer": intent.personal_answer,
    }


def _sync_phrases(session: Session, kb: KnowledgeBase) -> None:
    sources = {
        (intent_id, text): source
        for intent_id, text, source in session.execute(
            select(KbPhrase.intent_id, KbPhrase.text, KbPhrase.source_message_id)
        )
    }
    session.execute(delete(KbPhrase))
    session.add_all(
        KbPhrase(
            intent_id=intent.id,
            text=text,
            position=position,
            source_message_id=sources.get((intent.id, text)),
        )
        for intent in kb.intents
        for position, text in enumerate(intent.phrases)
    )


def _sync_declines(session: Session, kb: KnowledgeBase) -> None:
    session.execute(delete(KbDeclineExample))
    session.add_all(
        KbDeclineExample(text=text, position=position)
        for position, text in enumerate(kb.decline_examples)
    )


def count_phrases(session: Session) -> int:
    """How many training phrases are stored."""
    return session.scalar(select(func.count()).select_from(KbPhrase)) or 0
