"""Importing and exporting the knowledge base held in the database."""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from veiviser.content import KnowledgeBase, load_knowledge_base
from veiviser.content.problems import validation_problem
from veiviser.demo import KB_PATH
from veiviser.errors import KnowledgeBaseError, KnowledgeBaseProblem, NotFound
from veiviser.service import revisions
from veiviser.store.knowledge import (
    has_knowledge_base,
    read_knowledge_base,
    replace_knowledge_base,
)

log = logging.getLogger(__name__)


def kb_source(kb: str | Path) -> Path:
    """The path of a knowledge-base argument; ``demo`` is the built-in one."""
    return KB_PATH if str(kb) == "demo" else Path(kb)


def merge_knowledge_bases(base: KnowledgeBase, extra: KnowledgeBase) -> KnowledgeBase:
    """``base`` with everything in ``extra`` added or replaced.

    Intents and groups in ``extra`` replace those with the same id and are
    appended otherwise; decline examples are added unless already there;
    texts are updated key by key; the organisation is replaced only when
    ``extra`` gives one.

    Raises:
        pydantic.ValidationError: the merged knowledge base is inconsistent.
    """
    groups = {group.id: group for group in base.groups}
    groups.update({group.id: group for group in extra.groups})
    intents = {intent.id: intent for intent in base.intents}
    intents.update({intent.id: intent for intent in extra.intents})
    declines = list(base.decline_examples)
    declines += [d for d in extra.decline_examples if d not in set(declines)]
    given = extra.model_fields_set
    organisation = extra.organisation if "organisation" in given else base.organisation
    return KnowledgeBase(
        organisation=organisation,
        texts={**base.texts, **extra.texts},
        groups=list(groups.values()),
        intents=list(intents.values()),
        decline_examples=declines,
    )


def import_knowledge_base(
    sessions: sessionmaker[Session],
    kb: KnowledgeBase,
    *,
    merge: bool = False,
    actor: str = revisions.SYSTEM,
    source: str = "<import>",
) -> int:
    """Store ``kb`` in place of the stored one, or merged into it.

    The change is recorded in the revision log under ``actor``. A result
    without active intents is refused: the assistant would answer every
    message with its fallback. So a replace needs a file with intents, while
    a merge may bring only texts, declines or the organisation.

    Args:
        sessions: the database.
        kb: the knowledge base read from ``source``.
        merge: merge into the stored one instead of replacing it.
        actor: who imports, for the revision log.
        source: the file ``kb`` came from, named in a problem.

    Returns:
        The new knowledge-base revision.

    Raises:
        KnowledgeBaseError: the result is inconsistent or has no active
            intents; nothing is stored.
    """
    with sessions.begin() as session:
        current = read_knowledge_base(session)
        if merge and current is not None:
            kb = _validated_merge(current, kb)
        if not kb.active_intents():
            problem = "the knowledge base would have no active intents"
            raise KnowledgeBaseError(
                [KnowledgeBaseProblem(source, None, problem, "no_intents")]
            )
        revision = replace_knowledge_base(session, kb)
        revisions.record_import(session, actor, current, kb, merge)
    log.info(
        "knowledge base stored: revision %d, %d intents, %d decline examples",
        revision,
        len(kb.intents),
        len(kb.decline_examples),
    )
    return revision


def _validated_merge(current: KnowledgeBase, extra: KnowledgeBase) -> KnowledgeBase:
    # The file was checked against the stored knowledge base when it was read
    # (``merge_into``), with its lines; this catches one changed since then,
    # such as an intent archived in between.
    try:
        return merge_knowledge_bases(current, extra)
    except ValidationError as error:
        problems = [
            validation_problem(item, "<merge>", None) for item in error.errors()
        ]
        raise KnowledgeBaseError(problems) from None


def import_if_empty(sessions: sessionmaker[Session], source: str | Path) -> bool:
    """Import the knowledge base at ``source`` when the database has none.

    Returns:
        Whether it was imported.
    """
    with sessions() as session:
        if has_knowledge_base(session):
            return False
    import_knowledge_base(sessions, load_knowledge_base(kb_source(source)))
    return True


def stored_knowledge_base(sessions: sessionmaker[Session]) -> KnowledgeBase | None:
    """The stored knowledge base, or ``None`` before the first import."""
    with sessions() as session:
        return read_knowledge_base(session)


def export_knowledge_base(sessions: sessionmaker[Session]) -> KnowledgeBase:
    """The stored knowledge base.

    Raises:
        NotFound: nothing has been imported yet.
    """
    kb = stored_knowledge_base(sessions)
    if kb is None:
        raise NotFound("The database holds no knowledge base yet; import one.")
    return kb
