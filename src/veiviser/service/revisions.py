"""Revisions: who changed what and when, readable diffs, and rolling back.

Every change to the knowledge base (intents, phrases, decline examples,
imports), the widget's notice, settings changed in the admin and staff
accounts is recorded here by the code that makes the change, inside the
same database transaction. A revision keeps a JSON snapshot of the object
before and after; the diff staff read is computed from those snapshots when
shown, so the way it is shown can improve without touching stored data.

Snapshots never hold a password or a password hash: a staff account is
recorded as its name, role and whether it is active, and a password reset
as the time the password changed.
"""

from __future__ import annotations

import difflib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from veiviser.content import Intent, KnowledgeBase
from veiviser.errors import InvalidInput, NotFound, VeiviserError
from veiviser.store.models import KbIntent, KbPhrase, utc_now
from veiviser.store.models_handover import OpeningException, OpeningHoursSlot
from veiviser.store.models_revisions import ContentRevision

if TYPE_CHECKING:
    from veiviser.service.editing import Saved

log = logging.getLogger(__name__)

SYSTEM = "system"
PAGE_SIZE = 50
MAX_SEARCH_CHARS = 200
LABEL_CHARS = 200
OSLO = ZoneInfo("Europe/Oslo")

# The kinds of change, by the type of object they change.
INTENT_CREATED = "intent.created"
INTENT_EDITED = "intent.edited"
INTENT_ARCHIVED = "intent.archived"
INTENT_RESTORED = "intent.restored"
INTENT_ROLLED_BACK = "intent.rolled_back"
INTENT_IMPORTED = "intent.imported"
PHRASES_ADDED = "phrases.added"
PHRASES_REMOVED = "phrases.removed"
PHRASES_CHANGED = "phrases.changed"
DECLINES_ADDED = "declines.added"
KB_IMPORTED = "kb.imported"
NOTICE_CHANGED = "notice.changed"
SETTINGS_CHANGED = "settings.changed"
USER_CREATED = "user.created"
USER_CHANGED = "user.changed"
USER_DISABLED = "user.disabled"
USER_PASSWORD_RESET = "user.password_reset"

KINDS: dict[str, str] = {
    INTENT_CREATED: "intent",
    INTENT_EDITED: "intent",
    INTENT_ARCHIVED: "intent",
    INTENT_RESTORED: "intent",
    INTENT_ROLLED_BACK: "intent",
    INTENT_IMPORTED: "intent",
    PHRASES_ADDED: "intent",
    PHRASES_REMOVED: "intent",
    PHRASES_CHANGED: "intent",
    DECLINES_ADDED: "declines",
    KB_IMPORTED: "kb",
    NOTICE_CHANGED: "notice",
    SETTINGS_CHANGED: "settings",
    USER_CREATED: "user",
    USER_CHANGED: "user",
    USER_DISABLED: "user",
    USER_PASSWORD_RESET: "user",
}

# Fields the admin texts name; other fields (a text key of an import) are
# shown by their own name.
KNOWN_FIELDS = frozenset(
    {
        "id", "title", "group", "status", "handover", "phrases", "answer",
        "buttons", "personal_answer", "text", "starts_at", "ends_at",
        "username", "role", "active", "password_changed_at", "intents",
        "groups", "decline_examples", "mode", "week", "exceptions",
        "organisation.name", "organisation.assistant_name", "organisation.website",
        "organisation.phone", "organisation.email", "organisation.opening_hours",
    }
)  # fmt: skip


class RevisionNotRestorable(VeiviserError):
    """The revision is not a state of this intent that can be restored."""

    status = 409
    code = "revision_not_restorable"

    def __init__(self, intent_id: str, revision_id: int) -> None:
        super().__init__(
            f"Revision {revision_id} holds no state of intent {intent_id!r} "
            "to restore (it is another object's, or the intent's archiving).",
            details={"intent": intent_id, "revision": revision_id},
        )


class AuditQueryInvalid(InvalidInput):
    """A filter of the audit log cannot be used (a malformed date, ...)."""

    code = "audit_query_invalid"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, details={"reason": reason})
        self.reason = reason


# --- Recording ----------------------------------------------------------------


def record(
    session: Session,
    *,
    actor: str,
    kind: str,
    object_id: str,
    label: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    object_version: int | None = None,
) -> None:
    """Add one revision to the caller's transaction (the caller commits).

    Args:
        actor: the staff member's username, or ``system`` for the CLI and
            start-up.
        kind: one of ``KINDS``; it decides the object type.
        object_id: the id of the changed object (an intent id, a username).
        label: a readable name of the object, searched by the audit log.
        before: the object before the change, None if it did not exist.
        after: the object after the change, None if it is gone.
        object_version: an intent's version after the change.
    """
    session.add(
        ContentRevision(
            at=utc_now(),
            actor=(actor or SYSTEM)[:64],
            kind=kind,
            object_type=KINDS[kind],
            object_id=object_id[:100],
            label=(label or object_id)[:LABEL_CHARS],
            before=dict(before) if before is not None else None,
            after=dict(after) if after is not None else None,
            object_version=object_version,
        )
    )


def intent_snapshot(session: Session, intent_id: str) -> dict[str, Any] | None:
    """The stored intent as the knowledge-base format describes it, or None."""
    row = session.get(KbIntent, intent_id)
    if row is None:
        return None
    phrases = session.scalars(
        select(KbPhrase.text)
        .where(KbPhrase.intent_id == intent_id)
        .order_by(KbPhrase.position)
    ).all()
    return {
        "id": row.id,
        "title": row.title,
        "group": row.group_id,
        "status": row.status,
        "handover": row.handover,
        "phrases": list(phrases),
        "answer": row.answer,
        "buttons": list(row.buttons),
        "personal_answer": row.personal_answer,
    }


def record_intent_save(
    session: Session,
    actor: str,
    before: Mapping[str, Any] | None,
    intent: Intent,
    saved: Saved,
    kind: str | None = None,
) -> None:
    """Record a stored intent; the kind follows from what changed."""
    after = intent.model_dump(mode="json")
    record(
        session,
        actor=actor,
        kind=kind or _save_kind(before, after),
        object_id=intent.id,
        label=intent.title,
        before=before,
        after=after,
        object_version=saved.version,
    )


def _save_kind(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> str:
    if before is None:
        return INTENT_CREATED
    others = [k for k in after if k != "phrases" and before.get(k) != after[k]]
    if others or before.get("phrases") == after["phrases"]:
        return INTENT_EDITED
    old, new = set(before.get("phrases") or ()), set(after["phrases"])
    if new > old:
        return PHRASES_ADDED
    return PHRASES_REMOVED if new < old else PHRASES_CHANGED


def record_archive(
    session: Session, actor: str, before: Mapping[str, Any], version: int
) -> None:
    """Record that an intent left the knowledge base for the archive."""
    record(
        session,
        actor=actor,
        kind=INTENT_ARCHIVED,
        object_id=str(before["id"]),
        label=str(before["title"]),
        before=before,
        after=None,
        object_version=version,
    )


def record_import(
    session: Session,
    actor: str,
    before: KnowledgeBase | None,
    after: KnowledgeBase,
    merge: bool,
) -> None:
    """Record an import: one revision per changed intent and one summary.

    Each intent the import created, changed or removed gets its own revision,
    so its history (and a rollback) sees the import like any other edit.
    """
    old = {i.id: i.model_dump(mode="json") for i in (before.intents if before else [])}
    new = {i.id: i.model_dump(mode="json") for i in after.intents}
    versions = dict(session.execute(select(KbIntent.id, KbIntent.version)).all())
    for intent_id in [*new, *(k for k in old if k not in new)]:
        if old.get(intent_id) == new.get(intent_id):
            continue
        snapshot = new.get(intent_id) or old[intent_id]
        record(
            session,
            actor=actor,
            kind=INTENT_IMPORTED,
            object_id=intent_id,
            label=str(snapshot["title"]),
            before=old.get(intent_id),
            after=new.get(intent_id),
            object_version=versions.get(intent_id),
        )
    record(
        session,
        actor=actor,
        kind=KB_IMPORTED,
        object_id="kb",
        label="merge" if merge else "replace",
        before=_kb_summary(before) if before is not None else None,
        after={**_kb_summary(after), "mode": "merge" if merge else "replace"},
    )


def _kb_summary(kb: KnowledgeBase) -> dict[str, Any]:
    # The intents themselves have their own revisions; the summary names them.
    return {
        "organisation": kb.organisation.model_dump(mode="json"),
        "texts": dict(kb.texts),
        "groups": [f"{g.id}: {g.title}" for g in kb.groups],
        "intents": [f"{i.id}: {i.title}" for i in kb.intents],
        "decline_examples": list(kb.decline_examples),
    }


def record_declines(
    session: Session, actor: str, before: list[str], after: list[str]
) -> None:
    """Record added decline examples (the whole list before and after)."""
    record(
        session,
        actor=actor,
        kind=DECLINES_ADDED,
        object_id="decline_examples",
        label="decline_examples",
        before={"decline_examples": list(before)},
        after={"decline_examples": list(after)},
    )


def notice_snapshot(text: str, starts: datetime | None, ends: datetime | None) -> dict:
    """The notice as a revision keeps it."""
    return {
        "text": text,
        "starts_at": starts.isoformat() if starts else None,
        "ends_at": ends.isoformat() if ends else None,
    }


def record_notice(session: Session, actor: str, before: dict, after: dict) -> None:
    """Record a change of the widget's notice."""
    record(
        session,
        actor=actor,
        kind=NOTICE_CHANGED,
        object_id="notice",
        label=after["text"][:LABEL_CHARS] or before["text"][:LABEL_CHARS],
        before=before,
        after=after,
    )


def record_settings(
    session: Session, actor: str, name: str, before: dict, after: dict
) -> None:
    """Record a setting changed in the admin (``name`` says which)."""
    record(
        session,
        actor=actor,
        kind=SETTINGS_CHANGED,
        object_id=name,
        label=name,
        before=before,
        after=after,
    )


def hours_snapshot(session: Session) -> dict[str, Any]:
    """The opening hours as stored: the week (0 is Monday) and dated exceptions."""
    week: dict[str, list[str]] = {}
    for slot in session.scalars(select(OpeningHoursSlot).order_by(OpeningHoursSlot.id)):
        week.setdefault(str(slot.weekday), []).append(f"{slot.opens}-{slot.closes}")
    exceptions = {
        row.day.isoformat(): " ".join(
            part
            for part in (
                "closed" if row.closed else f"{row.opens}-{row.closes}",
                row.note,
            )
            if part
        )
        for row in session.scalars(select(OpeningException))
    }
    return {
        "week": {day: ", ".join(slots) for day, slots in sorted(week.items())},
        "exceptions": dict(sorted(exceptions.items())),
    }


def record_hours(session: Session, actor: str, before: dict[str, Any]) -> None:
    """Record a change of the opening hours (after is read from ``session``)."""
    after = hours_snapshot(session)
    if after != before:
        record_settings(session, actor, "opening_hours", before, after)


def account_snapshot(username: str, role: str, active: bool) -> dict[str, Any]:
    """A staff account as a revision keeps it: never its password or hash."""
    return {"username": username, "role": role, "active": active}


def record_account(
    session: Session,
    actor: str,
    kind: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> None:
    """Record a staff account created or changed (a deactivation named so)."""
    if kind == USER_CHANGED and before and before["active"] and not after["active"]:
        kind = USER_DISABLED
    record(
        session,
        actor=actor,
        kind=kind,
        object_id=str(after["username"]),
        label=str(after["username"]),
        before=before,
        after=after,
    )


def forget_texts(session: Session, texts: Iterable[str]) -> int:
    """Take erased phrases and decline examples out of every snapshot.

    Erasing a conversation deletes what was learnt from it; its copies in
    the revision log go in the same transaction. The diff of an affected
    revision then no longer shows them.

    Returns:
        How many revisions were changed.
    """
    wanted = {text for text in texts if text}
    if not wanted:
        return 0
    # Snapshots are stored as JSON text (json.dumps, ASCII-escaped); searching
    # for each text in that form finds the few rows worth loading.
    found = [
        cast(column, String).contains(json.dumps(text)[1:-1], autoescape=True)
        for text in wanted
        for column in (ContentRevision.before, ContentRevision.after)
    ]
    rows = session.scalars(select(ContentRevision).where(or_(*found))).all()
    for row in rows:
        row.before = _without(row.before, wanted)
        row.after = _without(row.after, wanted)
    return len(rows)


def _without(snapshot: dict[str, Any] | None, texts: set[str]) -> Any:
    if snapshot is None:
        return None
    kept = dict(snapshot)
    for key in ("phrases", "decline_examples"):
        if isinstance(kept.get(key), list):
            kept[key] = [item for item in kept[key] if item not in texts]
    return kept


# --- Reading --------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One changed field, ready to show.

    ``lines`` is a line diff of a long text (tag ``+``, ``-`` or `` ``);
    ``added``/``removed`` list the items of a list that came or went;
    otherwise ``old`` and ``new`` are the two values.
    """

    field: str
    known: bool
    old: Any = None
    new: Any = None
    lines: tuple[tuple[str, str], ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Revision:
    """A recorded change, as the history and the audit log show it."""

    id: int
    at: datetime
    actor: str
    kind: str
    object_type: str
    object_id: str
    label: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    object_version: int | None
    changes: list[Change] = field(default_factory=list)

    @property
    def restorable(self) -> bool:
        """Whether this revision holds an intent state to roll back to."""
        return self.object_type == "intent" and self.after is not None


def _view(row: ContentRevision) -> Revision:
    return Revision(
        row.id,
        row.at,
        row.actor,
        row.kind,
        row.object_type,
        row.object_id,
        row.label,
        row.before,
        row.after,
        row.object_version,
        diff(row.before, row.after),
    )


def history(
    sessions: sessionmaker[Session], object_type: str, object_id: str, limit: int = 200
) -> list[Revision]:
    """An object's revisions, newest first."""
    with sessions() as session:
        rows = session.scalars(
            select(ContentRevision)
            .where(
                ContentRevision.object_type == object_type,
                ContentRevision.object_id == object_id,
            )
            .order_by(ContentRevision.id.desc())
            .limit(limit)
        )
        return [_view(row) for row in rows]


def get_revision(sessions: sessionmaker[Session], revision_id: int) -> Revision:
    """One revision.

    Raises:
        NotFound: no revision has this id.
    """
    # An id out of the column's range is no revision (and must not reach
    # the database driver, which refuses it).
    if not 0 < revision_id < 2**62:
        raise NotFound(f"No revision has the id {revision_id}.")
    with sessions() as session:
        row = session.get(ContentRevision, revision_id)
        if row is None:
            raise NotFound(f"No revision has the id {revision_id}.")
        return _view(row)


def last_intent_change(
    sessions: sessionmaker[Session], intent_id: str
) -> Revision | None:
    """The newest revision of an intent (who changed it last, and how)."""
    found = history(sessions, "intent", intent_id, limit=1)
    return found[0] if found else None


def intent_at_version(
    sessions: sessionmaker[Session], intent_id: str, version: int
) -> dict[str, Any] | None:
    """The intent as it was at ``version``, if a revision recorded it."""
    with sessions() as session:
        row = session.scalars(
            select(ContentRevision)
            .where(
                ContentRevision.object_type == "intent",
                ContentRevision.object_id == intent_id,
                ContentRevision.object_version == version,
                ContentRevision.after.is_not(None),
            )
            .order_by(ContentRevision.id.desc())
            .limit(1)
        ).first()
        return row.after if row is not None else None


# --- The audit log ----------------------------------------------------------------


@dataclass(frozen=True)
class AuditQuery:
    """Filters of the audit log; empty means no filter."""

    actor: str = ""
    kind: str = ""
    text: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1

    @classmethod
    def parse(
        cls, actor: str, kind: str, text: str, since: str, until: str, page: str
    ) -> AuditQuery:
        """Filters from a query string.

        Raises:
            AuditQueryInvalid: a text is too long, a date malformed, the
                period ends before it starts or the kind is unknown.
        """
        if max(len(actor), len(text)) > MAX_SEARCH_CHARS:
            raise AuditQueryInvalid(
                f"A search text is over {MAX_SEARCH_CHARS} characters.", "too_long"
            )
        if kind and kind not in KINDS and kind not in set(KINDS.values()):
            raise AuditQueryInvalid(f"Unknown kind {kind[:40]!r}.", "kind")
        first, last = _date(since), _date(until)
        if first and last and last < first:
            raise AuditQueryInvalid("The period ends before it starts.", "period")
        number = int(page) if page.isdigit() and len(page) < 7 else 1
        return cls(actor.strip(), kind, text.strip(), first, last, max(number, 1))


def _date(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10]) if len(value) <= 10 else _bad(value)
    except ValueError:
        return _bad(value)


def _bad(value: str) -> date:
    raise AuditQueryInvalid(f"Not a date (YYYY-MM-DD): {value[:20]!r}.", "date")


@dataclass(frozen=True)
class AuditPage:
    """One page of the audit log."""

    revisions: list[Revision]
    total: int
    page: int
    pages: int


def search(sessions: sessionmaker[Session], query: AuditQuery) -> AuditPage:
    """Revisions that pass the filters, newest first, one page.

    Limitation: OFFSET paging and a LIKE on id and label read more rows the
    further back a page is; keyset paging (``id < last``) and a trigram index
    would retire it when the log passes ~1 million revisions. Revisions are
    never pruned.
    """
    statement = _filtered(select(ContentRevision), query)
    with sessions() as session:
        total = session.scalar(
            _filtered(select(func.count()).select_from(ContentRevision), query)
        )
        rows = session.scalars(
            statement.order_by(ContentRevision.id.desc())
            .offset((query.page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
        revisions = [_view(row) for row in rows]
    total = total or 0
    return AuditPage(revisions, total, query.page, max(1, -(-total // PAGE_SIZE)))


def _filtered(statement: Select, query: AuditQuery) -> Select:
    if query.actor:
        statement = statement.where(ContentRevision.actor == query.actor.lower())
    if query.kind in KINDS:
        statement = statement.where(ContentRevision.kind == query.kind)
    elif query.kind:
        statement = statement.where(ContentRevision.object_type == query.kind)
    if query.text:
        # autoescape: a % or _ typed by staff is searched for, not a wildcard.
        wanted = query.text.lower()
        statement = statement.where(
            or_(
                func.lower(ContentRevision.object_id).contains(wanted, autoescape=True),
                func.lower(ContentRevision.label).contains(wanted, autoescape=True),
            )
        )
    if query.since:
        statement = statement.where(ContentRevision.at >= _day_start(query.since))
    if query.until:
        end = _day_start(query.until + timedelta(days=1))
        statement = statement.where(ContentRevision.at < end)
    return statement


def _day_start(day: date) -> datetime:
    # Staff think in Norwegian days; the log stores UTC.
    return datetime.combine(day, time(), OSLO)


def actors(sessions: sessionmaker[Session]) -> list[str]:
    """Everyone who has changed something, for the filter's list."""
    with sessions() as session:
        return list(
            session.scalars(
                select(ContentRevision.actor).distinct().order_by(ContentRevision.actor)
            )
        )


# --- Rolling back -----------------------------------------------------------------


def rollback_intent(
    sessions: sessionmaker[Session],
    intent_id: str,
    revision_id: int,
    actor: str,
    expected_version: int | None = None,
) -> Saved:
    """Make an intent exactly what it was after ``revision_id``.

    Title, answers, buttons, handover mark, status, group and phrases (in
    their order) all return; the rollback is itself a revision.

    Raises:
        NotFound: the revision or the intent does not exist (an archived
            intent is restored from the archive first).
        RevisionNotRestorable: the revision is another object's or holds
            no state (an archiving).
        editing.IntentInvalid: the old state no longer fits the knowledge
            base (its group or a button's intent is gone).
        editing.EditConflict: the intent changed after ``expected_version``.
    """
    # Imported here: editing records its saves through this module.
    from veiviser.service import editing

    target = get_revision(sessions, revision_id)
    if target.object_id != intent_id or not target.restorable:
        raise RevisionNotRestorable(intent_id, revision_id)
    intent = editing.build_intent(dict(target.after or {}))
    saved = editing.save_intent(
        sessions,
        intent,
        expected_version=expected_version,
        is_new=False,
        actor=actor,
        kind=INTENT_ROLLED_BACK,
    )
    log.info(
        "intent %s rolled back to revision %d by %s", intent_id, revision_id, actor
    )
    return saved


# --- Diffs ------------------------------------------------------------------------


def diff(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[Change]:
    """The fields that differ between two snapshots, in a readable form."""
    return list(_changes(before or {}, after or {}, ""))


def _changes(
    before: Mapping[str, Any], after: Mapping[str, Any], prefix: str
) -> Iterable[Change]:
    keys = list(after) + [k for k in before if k not in after]
    for key in keys:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        name = prefix + key
        if isinstance(old, dict | None) and isinstance(new, dict | None):
            yield from _changes(old or {}, new or {}, name + ".")
        elif isinstance(old, list | None) and isinstance(new, list | None):
            yield _list_change(name, old or [], new or [])
        elif _is_long(old) or _is_long(new):
            yield Change(name, name in KNOWN_FIELDS, lines=_line_diff(old, new))
        else:
            yield Change(name, name in KNOWN_FIELDS, old=old, new=new)


def _list_change(name: str, old: list[Any], new: list[Any]) -> Change:
    old_items, new_items = [_item(v) for v in old], [_item(v) for v in new]
    kept_old, kept_new = set(old_items), set(new_items)
    added = tuple(i for i in new_items if i not in kept_old)
    removed = tuple(i for i in old_items if i not in kept_new)
    if added or removed:
        return Change(name, name in KNOWN_FIELDS, added=added, removed=removed)
    # Same items in another order: show the order.
    lines = _line_diff("\n".join(old_items), "\n".join(new_items))
    return Change(name, name in KNOWN_FIELDS, lines=lines)


def _item(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) <= {"intent", "label"}:
        return f"{value.get('label') or '–'} → {value.get('intent')}"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _is_long(value: Any) -> bool:
    return isinstance(value, str) and ("\n" in value or len(value) > 80)


def _line_diff(old: Any, new: Any) -> tuple[tuple[str, str], ...]:
    old_lines = str(old or "").splitlines()
    new_lines = str(new or "").splitlines()
    lines: list[tuple[str, str]] = []
    for line in difflib.unified_diff(old_lines, new_lines, lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        tag = line[:1] if line[:1] in "+- @" else " "
        # A gap marker only between hunks: the first hunk needs none.
        if tag == "@" and not lines:
            continue
        lines.append((tag, line[1:] if tag != "@" else "…"))
    return tuple(lines)
