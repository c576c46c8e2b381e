"""Editing the knowledge base one intent at a time, and the widget's notice.

Every change to an intent goes through ``save_intent``: one transaction that
takes the write lock, checks the version the editor started from, validates
the whole knowledge base with the change in place, stores it and bumps the
knowledge-base revision. Adding a revision record (issue: content care) is
one more step in that same transaction (see ``_after_save``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from veiviser.content import Intent, KnowledgeBase
from veiviser.errors import InvalidInput, NotFound, VeiviserError
from veiviser.service import revisions
from veiviser.store.knowledge import META_ID, read_knowledge_base
from veiviser.store.models import (
    KbGroup,
    KbIntent,
    KbMeta,
    KbPhrase,
    ModelVersion,
    utc_now,
)
from veiviser.store.models_admin import ArchivedIntent, Notice
from veiviser.text import normalize

log = logging.getLogger(__name__)

MAX_NOTICE_CHARS = 300
NOTICE_ID = 1


class EditConflict(VeiviserError):
    """Someone saved the intent after this editor opened it (a stale copy).

    Nothing is written; the admin turns this into a choice between the
    stored version and the editor's (see ``web/admin/revisions.py``).
    """

    status = 409
    code = "edit_conflict"

    def __init__(self, intent_id: str, expected: int, current: int) -> None:
        super().__init__(
            f"Intent {intent_id!r} is at version {current}; the edit started "
            f"from version {expected}.",
            details={"intent": intent_id, "expected": expected, "current": current},
        )
        self.intent_id, self.expected, self.current = intent_id, expected, current


# The name the content-care issue uses for a save from a stale copy.
StaleEdit = EditConflict


class IntentInvalid(InvalidInput):
    """The intent (or the knowledge base with it) breaks a rule.

    ``problems`` maps a form field (``id``, ``title``, ``answer``, ``phrases``,
    ``buttons``, ``group``, ``intent``) to an English description; the web
    layer shows its own Norwegian text for the field.
    """

    code = "intent_invalid"

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(
            "The intent is invalid: "
            + "; ".join(f"{k}: {v}" for k, v in problems.items()),
            details={"problems": problems},
        )
        self.problems = problems


class IntentInUse(VeiviserError):
    """Other intents have buttons to the intent that is to be archived."""

    status = 409
    code = "intent_in_use"

    def __init__(self, intent_id: str, used_by: list[str]) -> None:
        super().__init__(
            f"Intent {intent_id!r} has buttons pointing to it from {used_by}.",
            details={"intent": intent_id, "used_by": used_by},
        )
        self.used_by = used_by


class NoticeInvalid(InvalidInput):
    """The notice is too long or ends before it starts."""

    code = "notice_invalid"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, details={"reason": reason})
        self.reason = reason


@dataclass(frozen=True)
class IntentSummary:
    """One line of the intent list."""

    id: str
    title: str
    group: str | None
    status: str
    handover: bool
    phrases: int
    version: int


@dataclass(frozen=True)
class EditableIntent:
    """An intent and the version an edit of it starts from."""

    intent: Intent
    version: int


@dataclass(frozen=True)
class Saved:
    """The outcome of a save: the knowledge-base revision it produced."""

    intent_id: str
    version: int
    kb_revision: int


@dataclass(frozen=True)
class PhrasesAdded:
    """How many phrases were added, and which were already there."""

    saved: Saved
    added: int
    duplicates: list[str]


# --- Reading ----------------------------------------------------------------


def list_intents(
    sessions: sessionmaker[Session],
    search: str = "",
    group: str = "",
    status: str = "",
    max_phrases: int | None = None,
) -> list[IntentSummary]:
    """The intents in knowledge-base order, filtered.

    Args:
        search: words that must appear in the id, title, answer or a phrase
            (case, accents and æ/ø/å spelling ignored).
        group: a group id; ``"-"`` for intents without a group.
        status: ``active`` or ``draft``; empty for both.
        max_phrases: only intents with at most this many phrases (to find
            the thin ones).
    """
    with sessions() as session:
        rows = session.scalars(select(KbIntent).order_by(KbIntent.position)).all()
        counts = dict(
            session.execute(
                select(KbPhrase.intent_id, func.count()).group_by(KbPhrase.intent_id)
            ).all()
        )
        texts = _phrase_texts(session) if search.strip() else {}
    wanted = normalize(search).split()
    found = []
    for row in rows:
        if group and (row.group_id or "-") != group:
            continue
        if status and row.status != status:
            continue
        count = counts.get(row.id, 0)
        if max_phrases is not None and count > max_phrases:
            continue
        if wanted and not _matches(row, texts.get(row.id, ""), wanted):
            continue
        found.append(
            IntentSummary(
                row.id,
                row.title,
                row.group_id,
                row.status,
                row.handover,
                count,
                row.version,
            )
        )
    return found


def _phrase_texts(session: Session) -> dict[str, str]:
    joined: dict[str, list[str]] = {}
    for intent_id, text in session.execute(select(KbPhrase.intent_id, KbPhrase.text)):
        joined.setdefault(intent_id, []).append(text)
    return {key: " ".join(values) for key, values in joined.items()}


def _matches(row: KbIntent, phrases: str, wanted: list[str]) -> bool:
    haystack = normalize(
        f"{row.id.replace('_', ' ')} {row.title} {row.answer} {phrases}"
    )
    return all(word in haystack for word in wanted)


def load_intent(sessions: sessionmaker[Session], intent_id: str) -> EditableIntent:
    """An intent as stored, with its version (only its own rows are read).

    Raises:
        NotFound: no intent has this id.
    """
    with sessions() as session:
        row = session.get(KbIntent, intent_id)
        if row is None:
            raise NotFound(f"No intent has the id {intent_id!r}.")
        phrases = session.scalars(
            select(KbPhrase.text)
            .where(KbPhrase.intent_id == intent_id)
            .order_by(KbPhrase.position)
        ).all()
    intent = Intent.model_validate(
        {
            "id": row.id,
            "title": row.title,
            "group": row.group_id,
            "status": row.status,
            "handover": row.handover,
            "phrases": list(phrases),
            "answer": row.answer,
            "buttons": row.buttons,
            "personal_answer": row.personal_answer,
        }
    )
    return EditableIntent(intent, row.version)


def knowledge_base(sessions: sessionmaker[Session]) -> KnowledgeBase:
    """The stored knowledge base (an empty one before the first import)."""
    with sessions() as session:
        kb = read_knowledge_base(session)
    return kb if kb is not None else KnowledgeBase()


# --- Saving -----------------------------------------------------------------


def save_intent(
    sessions: sessionmaker[Session],
    intent: Intent,
    *,
    expected_version: int | None,
    is_new: bool,
    actor: str,
    kind: str | None = None,
) -> Saved:
    """Store a new or changed intent and bump the knowledge-base revision.

    Args:
        intent: the intent as it should be.
        expected_version: the version the editor started from; ``None``
            skips the check (a new intent, or a change that cannot collide
            such as adding phrases).
        is_new: the intent must not exist yet.
        actor: the staff member's username, for the log and the revision.
        kind: the revision's kind when the change itself does not tell
            (a restore, a rollback); see ``revisions.KINDS``.

    Raises:
        IntentInvalid: the id is taken, or the knowledge base would break
            (a button to an unknown intent, an unknown group, ...).
        EditConflict: the stored version is not ``expected_version``.
        NotFound: an existing intent was expected but is gone.
    """
    with sessions.begin() as session:
        meta = _lock_knowledge_base(session)
        current = session.get(KbIntent, intent.id)
        if is_new:
            _check_new_id(session, intent.id, current)
        elif current is None:
            raise NotFound(f"No intent has the id {intent.id!r}.")
        elif expected_version is not None and current.version != expected_version:
            raise EditConflict(intent.id, expected_version, current.version)

        _check_references(session, intent)
        before = revisions.intent_snapshot(session, intent.id)
        # Only this intent's rows are written: a save costs the same in a
        # knowledge base of 40 intents as in one of 400.
        row = _store_intent(session, intent, current)
        _store_phrases(session, intent)
        meta.kb_revision += 1
        session.flush()
        saved = Saved(intent.id, row.version, meta.kb_revision)
        _after_save(session, saved, actor)
        revisions.record_intent_save(session, actor, before, intent, saved, kind)
    log.info(
        "intent %s saved by %s: version %d, knowledge base revision %d",
        intent.id,
        actor,
        saved.version,
        saved.kb_revision,
    )
    return saved


def _lock_knowledge_base(session: Session) -> KbMeta:
    # Writing first takes the lock (a row lock on PostgreSQL, the database
    # write lock on SQLite) before reading, so two saves cannot interleave.
    meta = session.get(KbMeta, META_ID, with_for_update=True)
    if meta is None:
        raise NotFound("There is no knowledge base yet; import one first.")
    meta.updated_at = utc_now()
    session.flush()
    return meta


def _check_references(session: Session, intent: Intent) -> None:
    groups = set(session.scalars(select(KbGroup.id)))
    if intent.group is not None and intent.group not in groups:
        raise IntentInvalid({"group": f"group {intent.group!r} does not exist"})
    known = set(session.scalars(select(KbIntent.id))) | {intent.id}
    missing = [b.intent for b in intent.buttons if b.intent not in known]
    if missing:
        raise IntentInvalid({"buttons": f"buttons to unknown intents {missing}"})


def _store_intent(session: Session, intent: Intent, row: KbIntent | None) -> KbIntent:
    fields = {
        "title": intent.title,
        "group_id": intent.group,
        "status": intent.status,
        "handover": intent.handover,
        "answer": intent.answer,
        "buttons": [b.model_dump(mode="json") for b in intent.buttons],
        "personal_answer": intent.personal_answer,
    }
    if row is None:
        position = session.scalar(select(func.max(KbIntent.position))) or 0
        row = KbIntent(id=intent.id, position=position + 1, version=1, **fields)
        session.add(row)
        return row
    for name, value in fields.items():
        setattr(row, name, value)
    row.version += 1
    return row


def _store_phrases(session: Session, intent: Intent) -> None:
    stored = session.execute(
        select(KbPhrase.text, KbPhrase.source_message_id)
        .where(KbPhrase.intent_id == intent.id)
        .order_by(KbPhrase.position)
    ).all()
    if [text for text, _ in stored] == intent.phrases:
        return
    # A phrase that stays keeps the member message it was learnt from.
    sources = {text: source for text, source in stored}
    session.execute(delete(KbPhrase).where(KbPhrase.intent_id == intent.id))
    session.flush()
    if intent.phrases:
        session.execute(
            insert(KbPhrase),
            [
                {
                    "intent_id": intent.id,
                    "text": text,
                    "position": position,
                    "source_message_id": sources.get(text),
                }
                for position, text in enumerate(intent.phrases)
            ],
        )


def _check_new_id(session: Session, intent_id: str, current: KbIntent | None) -> None:
    if current is not None:
        raise IntentInvalid({"id": f"the id {intent_id!r} is taken"})
    if session.get(ArchivedIntent, intent_id) is not None:
        raise IntentInvalid(
            {"id": f"the id {intent_id!r} is taken by an archived intent"}
        )


def _after_save(session: Session, saved: Saved, actor: str) -> None:
    """Work that belongs to the same transaction as a save.

    The content-care feature records the intent revision and audit entry
    here, so a save and its history commit or fail together.
    """


def build_intent(fields: dict[str, object]) -> Intent:
    """An intent from form fields, with problems named per field.

    Raises:
        IntentInvalid: a field breaks a rule of the knowledge-base format.
    """
    try:
        return Intent.model_validate(fields)
    except ValidationError as error:
        problems: dict[str, str] = {}
        for item in error.errors():
            field = str(item["loc"][0]) if item["loc"] else "intent"
            problems.setdefault(field, item["msg"])
        raise IntentInvalid(problems) from None


def add_phrases(
    sessions: sessionmaker[Session], intent_id: str, texts: Iterable[str], actor: str
) -> PhrasesAdded:
    """Add training phrases (one per item), skipping ones the intent has.

    Raises:
        IntentInvalid: no phrase given, or one is over 500 characters.
        NotFound: no intent has this id.
    """
    intent = load_intent(sessions, intent_id).intent
    known = {normalize(p) for p in intent.phrases}
    new: list[str] = []
    duplicates: list[str] = []
    for text in (t.strip() for t in texts):
        if not text:
            continue
        key = normalize(text)
        (duplicates if key in known else new).append(text)
        known.add(key)
    if not new and not duplicates:
        raise IntentInvalid({"phrases": "no phrase was given"})
    if not new:
        saved = Saved(intent_id, load_intent(sessions, intent_id).version, 0)
        return PhrasesAdded(saved, 0, duplicates)
    changed = build_intent({**intent.model_dump(), "phrases": [*intent.phrases, *new]})
    saved = save_intent(
        sessions, changed, expected_version=None, is_new=False, actor=actor
    )
    return PhrasesAdded(saved, len(new), duplicates)


def remove_phrase(
    sessions: sessionmaker[Session], intent_id: str, text: str, actor: str
) -> Saved:
    """Remove one training phrase (by its text).

    Raises:
        NotFound: the intent or the phrase does not exist.
    """
    intent = load_intent(sessions, intent_id).intent
    if text not in intent.phrases:
        raise NotFound(f"Intent {intent_id!r} has no such phrase.")
    phrases = [p for p in intent.phrases if p != text]
    changed = build_intent({**intent.model_dump(), "phrases": phrases})
    return save_intent(
        sessions, changed, expected_version=None, is_new=False, actor=actor
    )


# --- Archive ----------------------------------------------------------------


def archive_intent(
    sessions: sessionmaker[Session],
    intent_id: str,
    actor: str,
    expected_version: int | None = None,
) -> int:
    """Take an intent out of the knowledge base, keeping it to restore later.

    Args:
        expected_version: the version the editor saw; ``None`` skips the check.

    Returns:
        The new knowledge-base revision.

    Raises:
        IntentInUse: other intents have buttons to it.
        EditConflict: the stored version is not ``expected_version``.
        NotFound: no intent has this id.
    """
    intent = load_intent(sessions, intent_id).intent
    with sessions.begin() as session:
        meta = _lock_knowledge_base(session)
        row = session.get(KbIntent, intent_id)
        if row is None:
            raise NotFound(f"No intent has the id {intent_id!r}.")
        if expected_version is not None and row.version != expected_version:
            raise EditConflict(intent_id, expected_version, row.version)
        before = revisions.intent_snapshot(session, intent_id)
        used_by = [
            other_id
            for other_id, buttons in session.execute(
                select(KbIntent.id, KbIntent.buttons)
            )
            if any(button.get("intent") == intent_id for button in buttons)
        ]
        if used_by:
            raise IntentInUse(intent_id, used_by)
        session.merge(
            ArchivedIntent(
                intent_id=intent.id,
                title=intent.title,
                data=intent.model_dump(mode="json"),
                archived_at=utc_now(),
                archived_by=actor,
            )
        )
        revisions.record_archive(session, actor, before or {}, row.version)
        session.execute(delete(KbPhrase).where(KbPhrase.intent_id == intent_id))
        session.execute(delete(KbIntent).where(KbIntent.id == intent_id))
        meta.kb_revision += 1
        revision = meta.kb_revision
    log.info("intent %s archived by %s", intent_id, actor)
    return revision


def archived_intents(sessions: sessionmaker[Session]) -> list[ArchivedIntent]:
    """Archived intents, newest first."""
    with sessions() as session:
        return list(
            session.scalars(
                select(ArchivedIntent).order_by(ArchivedIntent.archived_at.desc())
            )
        )


def restore_intent(
    sessions: sessionmaker[Session], intent_id: str, actor: str
) -> Saved:
    """Bring an archived intent back as a draft.

    Its group and buttons are dropped where they point to something that no
    longer exists, so the restored intent always fits the knowledge base.

    Raises:
        NotFound: no archived intent has this id.
        IntentInvalid: an intent with the same id exists again.
    """
    with sessions() as session:
        row = session.get(ArchivedIntent, intent_id)
        data = dict(row.data) if row is not None else None
    if data is None:
        raise NotFound(f"No archived intent has the id {intent_id!r}.")
    kb = knowledge_base(sessions)
    known = {i.id for i in kb.intents}
    if data.get("group") not in {g.id for g in kb.groups}:
        data["group"] = None
    data["buttons"] = [b for b in data.get("buttons", []) if b["intent"] in known]
    data["status"] = "draft"
    intent = build_intent(data)
    with sessions.begin() as session:
        session.execute(
            ArchivedIntent.__table__.delete().where(
                ArchivedIntent.intent_id == intent_id
            )
        )
    try:
        return save_intent(
            sessions,
            intent,
            expected_version=None,
            is_new=True,
            actor=actor,
            kind=revisions.INTENT_RESTORED,
        )
    except VeiviserError:
        _rearchive(sessions, intent_id, data, actor)
        raise


def _rearchive(
    sessions: sessionmaker[Session], intent_id: str, data: dict, actor: str
) -> None:
    with sessions.begin() as session:
        session.merge(
            ArchivedIntent(
                intent_id=intent_id,
                title=str(data.get("title", intent_id)),
                data=data,
                archived_at=utc_now(),
                archived_by=actor,
            )
        )


# --- Notice -----------------------------------------------------------------


@dataclass(frozen=True)
class NoticeView:
    """The notice as stored: text and period (UTC, either end open)."""

    text: str
    starts_at: datetime | None
    ends_at: datetime | None
    updated_by: str | None
    updated_at: datetime | None

    def shown_at(self, now: datetime) -> bool:
        """Whether the widget shows the notice at ``now``."""
        if not self.text:
            return False
        if self.starts_at is not None and now < self.starts_at:
            return False
        return self.ends_at is None or now < self.ends_at


def read_notice(sessions: sessionmaker[Session]) -> NoticeView:
    """The notice as stored (empty text when none is set)."""
    with sessions() as session:
        row = session.get(Notice, NOTICE_ID)
    if row is None:
        return NoticeView("", None, None, None, None)
    return NoticeView(
        row.text, row.starts_at, row.ends_at, row.updated_by, row.updated_at
    )


def current_notice(
    sessions: sessionmaker[Session], now: datetime | None = None
) -> str | None:
    """The notice members see now, or None."""
    notice = read_notice(sessions)
    return notice.text if notice.shown_at(now or utc_now()) else None


def set_notice(
    sessions: sessionmaker[Session],
    text: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    actor: str,
) -> NoticeView:
    """Set (or, with empty text, clear) the notice and its period.

    Raises:
        NoticeInvalid: the text is over 300 characters or the period ends
            before it starts.
    """
    text = " ".join((text or "").split())
    if len(text) > MAX_NOTICE_CHARS:
        raise NoticeInvalid(
            f"The notice has {len(text)} characters; the limit is {MAX_NOTICE_CHARS}.",
            "too_long",
        )
    if starts_at and ends_at and ends_at <= starts_at:
        raise NoticeInvalid("The notice ends before it starts.", "ends_first")
    with sessions.begin() as session:
        row = session.get(Notice, NOTICE_ID)
        if row is None:
            row = Notice(id=NOTICE_ID, text="")
            session.add(row)
        before = revisions.notice_snapshot(row.text, row.starts_at, row.ends_at)
        row.text, row.starts_at, row.ends_at = text, starts_at, ends_at
        row.updated_by, row.updated_at = actor, utc_now()
        after = revisions.notice_snapshot(text, starts_at, ends_at)
        revisions.record_notice(session, actor, before, after)
    log.info("notice %s by %s", "set" if text else "cleared", actor)
    return read_notice(sessions)


# --- Is the change live? ------------------------------------------------------


@dataclass(frozen=True)
class LiveStatus:
    """Whether this process answers from a knowledge-base revision yet.

    ``state`` is ``live`` (a model of this revision or newer is in use),
    ``training`` (not yet) or ``failed`` (training of the revision failed;
    ``error`` says why and the last good model stays in use).
    """

    state: str
    kb_revision: int
    model_id: int | None
    error: str | None = None


def live_status(
    sessions: sessionmaker[Session],
    in_use_revision: int | None,
    in_use_model: int | None,
    encoder: str,
    revision: int,
) -> LiveStatus:
    """The status of ``revision`` for a process whose model is ``in_use_*``."""
    with sessions() as session:
        newest = session.execute(
            select(ModelVersion.status, ModelVersion.error)
            .where(
                ModelVersion.encoder == encoder,
                ModelVersion.kb_revision >= revision,
            )
            .order_by(ModelVersion.id.desc())
            .limit(1)
        ).one_or_none()
        current = session.scalar(select(KbMeta.kb_revision).where(KbMeta.id == 1))
    # Only the newest attempt counts; a newer edit's model carries this one.
    if newest is not None and newest[0] == "failed" and current == revision:
        return LiveStatus("failed", revision, in_use_model, newest[1])
    if in_use_revision is not None and in_use_revision >= revision:
        return LiveStatus("live", revision, in_use_model)
    return LiveStatus("training", revision, in_use_model)
