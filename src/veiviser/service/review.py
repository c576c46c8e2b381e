"""The trainer loop as staff use it: the queue, one-click fixes, tasks, erasure.

A fix changes the knowledge base through the studio's editing functions
(``service.editing``) and records a decision per message; the web layer then
asks the studio's ``LiveTrainer`` for a new model, as an edit does. Once a
model of the fix's knowledge-base revision is loaded, the fixed messages are
classified again so the trainer sees whether they now get the intended answer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from veiviser.content import KnowledgeBase
from veiviser.content.model import MAX_PHRASE_CHARS, OUT_OF_SCOPE
from veiviser.errors import InvalidInput, NotFound
from veiviser.review import cache
from veiviser.review.clustering import THRESHOLDS, cluster_vectors, message_vectors
from veiviser.review.erasure import Erased, erase_conversation, learnt_from
from veiviser.review.erasure import record_erasure as _record
from veiviser.review.queue import QueueItem, closest_intents, select_queue
from veiviser.review.visits import visit
from veiviser.service import editing, revisions
from veiviser.service.assistant import Assistant
from veiviser.service.runtime import Runtime
from veiviser.service.staff import StaffUser
from veiviser.store.conversations import MEMBER
from veiviser.store.knowledge import (
    META_ID,
    read_knowledge_base,
    replace_knowledge_base,
)
from veiviser.store.models import Conversation, KbMeta, KbPhrase, Message, utc_now
from veiviser.store.models_trainer import ErasureLog, ReviewDecision
from veiviser.text import normalize

log = logging.getLogger(__name__)

# Up to this many queue items are clustered while the page waits (a few
# hundred milliseconds, embeddings being cached); more are clustered in the
# background and the page shows the previous result meanwhile.
INLINE_ITEMS = 150
MAX_IDS = 500
ACTIONS = ("added", "new_intent", "out_of_scope", "dismissed")
RECENT = timedelta(hours=24)


class ReviewInvalid(InvalidInput):
    """A fix names no message, unknown messages or an unusable intent."""

    code = "review_invalid"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, details={"reason": reason})
        self.reason = reason


@dataclass(frozen=True)
class ClusterView:
    """One cluster: its messages (typical first), closest intents, news."""

    items: tuple[QueueItem, ...]
    closest: tuple[tuple[str, str, float], ...]  # intent id, title, score
    new: int

    @property
    def typical(self) -> QueueItem:
        """The message nearest the cluster's centre."""
        return self.items[0]

    @property
    def message_ids(self) -> list[int]:
        """The ids of every message of the cluster."""
        return [item.message_id for item in self.items]


@dataclass(frozen=True)
class QueueView:
    """The review queue as the page shows it."""

    clusters: tuple[ClusterView, ...]
    total: int
    pending: bool
    vectors: str
    new_after: datetime | None


@dataclass(frozen=True)
class FixOutcome:
    """What a fix did."""

    action: str
    messages: int
    added: int
    duplicates: int
    skipped: int
    kb_revision: int
    intent_id: str | None

    @property
    def needs_training(self) -> bool:
        """Whether the model must learn the change (drafts are not trained)."""
        return self.added > 0 and self.action in ("added", "out_of_scope")


@dataclass(frozen=True)
class Verification:
    """A fixed message asked again: what the model in use says now."""

    message_id: int
    text: str
    action: str
    intent_id: str | None
    state: str  # training, fixed, not_fixed, draft
    outcome: str | None
    intents: tuple[str, ...]
    confidence: float | None
    decided_at: datetime


@dataclass(frozen=True)
class ConversationSummary:
    """What an administrator sees before erasing a conversation."""

    id: str
    created_at: datetime
    last_activity_at: datetime
    messages: int
    phrases: int
    declines: int


# --- The queue --------------------------------------------------------------


class ReviewService:
    """The trainer loop for one process's assistant."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.sessions: sessionmaker[Session] = assistant.sessions

    def queue(
        self,
        user: StaffUser,
        now: datetime | None = None,
        inline_items: int = INLINE_ITEMS,
    ) -> QueueView:
        """The queue in clusters, largest first, with news since the last visit.

        Clusters come from the database cache; when there are none for the
        current items they are computed now (few items) or in the background
        (many), and the previous result is shown meanwhile.
        """
        now = now or utc_now()
        with self.sessions.begin() as session:
            new_after = visit(session, user.id, now)
        with self.sessions() as session:
            items = select_queue(session)
        runtime = self.assistant.models.require()
        kind = vector_kind(runtime)
        key = cache.cache_key([i.message_id for i in items], kind, THRESHOLDS[kind])
        groups, pending = self._groups(items, runtime, key, inline_items)
        clusters = self._views(items, groups, runtime, new_after)
        return QueueView(tuple(clusters), len(items), pending, kind, new_after)

    def _groups(
        self,
        items: list[QueueItem],
        runtime: Runtime,
        key: str,
        inline_items: int,
    ) -> tuple[list[list[int]], bool]:
        with self.sessions() as session:
            stored = cache.ready_clusters(session, key)
        if stored is not None:
            return stored, False
        if len(items) <= inline_items:
            groups = compute_groups(items, runtime)
            if cache.claim(self.sessions, key, len(items), vector_kind(runtime)):
                cache.store(self.sessions, key, groups)
            return groups, False
        _start_background(self.sessions, items, runtime, key)
        with self.sessions() as session:
            newest = cache.newest_ready(session)
            previous = [list(g) for g in newest.clusters] if newest else []
        return previous, True

    def _views(
        self,
        items: list[QueueItem],
        groups: list[list[int]],
        runtime: Runtime,
        new_after: datetime | None,
    ) -> list[ClusterView]:
        by_id = {item.message_id: item for item in items}
        placed: set[int] = set()
        views = []
        for group in groups:
            members = [by_id[i] for i in group if i in by_id and i not in placed]
            placed.update(item.message_id for item in members)
            if members:
                views.append(self._view(members, runtime, new_after))
        # Items newer than the result shown (it is being recomputed) stand
        # alone until the new clusters are ready.
        for item in items:
            if item.message_id not in placed:
                views.append(self._view([item], runtime, new_after))
        return sorted(views, key=lambda v: (-len(v.items), -v.typical.message_id))

    @staticmethod
    def _view(
        members: list[QueueItem], runtime: Runtime, new_after: datetime | None
    ) -> ClusterView:
        closest = tuple(
            (intent, runtime.view.title(intent), score)
            for intent, score in closest_intents(members)
        )
        new = sum(
            1 for i in members if new_after is not None and i.created_at > new_after
        )
        return ClusterView(tuple(members), closest, new)

    # --- Fixes --------------------------------------------------------------

    def add_to_intent(
        self, message_ids: Sequence[int], intent_id: str, user: StaffUser
    ) -> FixOutcome:
        """Add the messages to an intent as training phrases, remembering sources.

        Raises:
            ReviewInvalid: no message, or none usable as a phrase.
            NotFound: no intent has this id.
        """
        messages = self._messages(message_ids)
        usable, skipped = _usable_phrases(messages)
        added = editing.add_phrases(
            self.sessions, intent_id, [m.text or "" for m in usable], user.username
        )
        with self.sessions.begin() as session:
            _remember_sources(session, intent_id, usable)
            _decide(
                session, messages, "added", intent_id, added.saved.kb_revision, user
            )
        return FixOutcome(
            "added",
            len(messages),
            added.added,
            len(added.duplicates),
            skipped,
            added.saved.kb_revision,
            intent_id,
        )

    def create_intent(
        self,
        message_ids: Sequence[int],
        intent_id: str,
        title: str,
        placeholder_answer: str,
        user: StaffUser,
    ) -> FixOutcome:
        """Create a draft intent with the messages as its phrases.

        The answer is a placeholder the editor replaces before activating.

        Raises:
            ReviewInvalid: no message, or none usable as a phrase.
            editing.IntentInvalid: the id is taken or malformed, the title
                empty or too long.
        """
        messages = self._messages(message_ids)
        usable, skipped = _usable_phrases(messages)
        phrases = _distinct([m.text or "" for m in usable])
        intent = editing.build_intent(
            {
                "id": intent_id.strip(),
                "title": title.strip(),
                "status": "draft",
                "phrases": phrases,
                "answer": placeholder_answer,
            }
        )
        saved = editing.save_intent(
            self.sessions,
            intent,
            expected_version=None,
            is_new=True,
            actor=user.username,
        )
        with self.sessions.begin() as session:
            _remember_sources(session, intent.id, usable)
            _decide(session, messages, "new_intent", intent.id, saved.kb_revision, user)
        # A draft is not trained; the model changes when it is activated.
        return FixOutcome(
            "new_intent",
            len(messages),
            len(phrases),
            len(usable) - len(phrases),
            skipped,
            saved.kb_revision,
            intent.id,
        )

    def mark_out_of_scope(
        self, message_ids: Sequence[int], user: StaffUser
    ) -> FixOutcome:
        """Keep the messages as decline examples, so they are declined on purpose.

        Raises:
            ReviewInvalid: no message, or none usable as an example.
        """
        messages = self._messages(message_ids)
        usable, skipped = _usable_phrases(messages)
        revision, added = _add_decline_examples(self.sessions, usable, user.username)
        with self.sessions.begin() as session:
            for message in messages:
                mine = OUT_OF_SCOPE if message.id in added else None
                _decide(session, [message], "out_of_scope", mine, revision, user)
        return FixOutcome(
            "out_of_scope",
            len(messages),
            len(added),
            len(usable) - len(added),
            skipped,
            revision,
            None,
        )

    def dismiss(self, message_ids: Sequence[int], user: StaffUser) -> FixOutcome:
        """Take the messages out of the queue without changing anything.

        Raises:
            ReviewInvalid: no message given, or unknown messages.
        """
        messages = self._messages(message_ids)
        with self.sessions.begin() as session:
            _decide(session, messages, "dismissed", None, None, user)
        return FixOutcome("dismissed", len(messages), 0, 0, 0, 0, None)

    def _messages(self, message_ids: Sequence[int]) -> list[Message]:
        ids = sorted(set(message_ids))
        if not ids:
            raise ReviewInvalid("Choose at least one message.", "no_messages")
        if len(ids) > MAX_IDS:
            raise ReviewInvalid(
                f"{len(ids)} messages were chosen; the limit is {MAX_IDS}.", "too_many"
            )
        with self.sessions() as session:
            found = list(
                session.scalars(
                    select(Message).where(Message.id.in_(ids), Message.role == MEMBER)
                )
            )
        if len(found) != len(ids):
            raise ReviewInvalid(
                "Some of the messages no longer exist (deleted or erased).", "gone"
            )
        return found

    # --- Did it work? -------------------------------------------------------

    def recent_fixes(
        self, now: datetime | None = None, limit: int = 20
    ) -> list[Verification]:
        """Fixes of the last day, each message asked again with the model in use."""
        since = (now or utc_now()) - RECENT
        with self.sessions() as session:
            rows = session.execute(
                select(ReviewDecision, Message.text)
                .join(Message, Message.id == ReviewDecision.message_id)
                .where(
                    ReviewDecision.decided_at >= since,
                    ReviewDecision.action != "dismissed",
                )
                .order_by(ReviewDecision.decided_at.desc(), Message.id.desc())
                .limit(limit)
            ).all()
        runtime = self.assistant.models.require()
        return [_verify(runtime, decision, text or "") for decision, text in rows]

    def training_pending(self, now: datetime | None = None) -> bool:
        """Whether a recent fix waits for a model that knows it."""
        return any(v.state == "training" for v in self.recent_fixes(now))

    # --- Erasure ------------------------------------------------------------

    def find_conversation(self, conversation_id: str) -> ConversationSummary:
        """What erasing this conversation would remove.

        Raises:
            NotFound: no conversation has this id.
        """
        with self.sessions() as session:
            conversation = session.get(Conversation, _conversation_id(conversation_id))
            if conversation is None:
                raise NotFound("No conversation has this id.")
            messages = session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.conversation_id == conversation.id)
            )
            phrases, declines = learnt_from(session, conversation.id)
            return ConversationSummary(
                conversation.id,
                conversation.created_at,
                conversation.last_activity_at,
                messages or 0,
                phrases,
                declines,
            )

    def erase(self, conversation_id: str, user: StaffUser) -> Erased:
        """Erase a conversation on a member's request, with what was learnt.

        Raises:
            NotFound: no conversation has this id.
        """
        with self.sessions.begin() as session:
            erased = erase_conversation(session, _conversation_id(conversation_id))
            if not erased.conversations:
                raise NotFound("No conversation has this id.")
            _record(session, "administrator", user.username, erased)
        log.info(
            "conversation %s erased by %s: %d messages, %d phrases",
            conversation_id[:8],
            user.username,
            erased.messages,
            erased.phrases,
        )
        return erased

    def erasure_log(self, limit: int = 100) -> list[ErasureLog]:
        """The newest lines of the erasure log."""
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(ErasureLog).order_by(ErasureLog.id.desc()).limit(limit)
                )
            )


# --- Helpers ----------------------------------------------------------------


def vector_kind(runtime: Runtime) -> str:
    """``dense`` when the model in use embeds with an encoder, else ``sparse``."""
    model = runtime.model
    dense = model.features.dense is not None and model.encoder is not None
    return "dense" if dense else "sparse"


def compute_groups(items: Sequence[QueueItem], runtime: Runtime) -> list[list[int]]:
    """Cluster queue items with the model in use; lists of message ids."""
    if not items:
        return []
    vectors, kind = message_vectors(runtime.model, [item.text for item in items])
    clusters = cluster_vectors(vectors, THRESHOLDS[kind])
    groups = []
    for cluster in clusters:
        ids = [items[cluster.typical].message_id]
        ids += [items[i].message_id for i in cluster.members if i != cluster.typical]
        groups.append(ids)
    return groups


def _start_background(
    sessions: sessionmaker[Session],
    items: list[QueueItem],
    runtime: Runtime,
    key: str,
) -> None:
    if not cache.claim(sessions, key, len(items), vector_kind(runtime)):
        return  # another process (or an earlier page view) is on it

    def work() -> None:
        try:
            cache.store(sessions, key, compute_groups(items, runtime))
        except Exception:
            cache.release(sessions, key)
            log.exception("clustering the review queue failed")

    threading.Thread(target=work, name="veiviser-review-clusters", daemon=True).start()


def _conversation_id(value: str) -> str:
    cleaned = value.strip().lower()
    if len(cleaned) != 32 or any(c not in "0123456789abcdef" for c in cleaned):
        raise NotFound("No conversation has this id.")
    return cleaned


def _usable_phrases(messages: list[Message]) -> tuple[list[Message], int]:
    usable = [m for m in messages if m.text and len(m.text.strip()) <= MAX_PHRASE_CHARS]
    if not usable:
        raise ReviewInvalid(
            "None of the messages can be a training phrase (empty or over "
            f"{MAX_PHRASE_CHARS} characters).",
            "unusable",
        )
    return usable, len(messages) - len(usable)


def _distinct(texts: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for text in (t.strip() for t in texts):
        if normalize(text) not in seen:
            seen.add(normalize(text))
            kept.append(text)
    return kept


def _remember_sources(
    session: Session, intent_id: str, messages: list[Message]
) -> None:
    """Point each new phrase at the message it came from."""
    for message in messages:
        session.execute(
            update(KbPhrase)
            .where(
                KbPhrase.intent_id == intent_id,
                KbPhrase.text == (message.text or "").strip(),
                KbPhrase.source_message_id.is_(None),
            )
            .values(source_message_id=message.id)
        )


def _decide(
    session: Session,
    messages: list[Message],
    action: str,
    intent_id: str | None,
    kb_revision: int | None,
    user: StaffUser,
) -> None:
    now = utc_now()
    for message in messages:
        session.merge(
            ReviewDecision(
                message_id=message.id,
                action=action,
                intent_id=intent_id,
                kb_revision=kb_revision or None,
                decided_by=user.id,
                decided_at=now,
            )
        )


def _add_decline_examples(
    sessions: sessionmaker[Session], messages: list[Message], actor: str
) -> tuple[int, set[int]]:
    """Add decline examples; returns the revision and the messages added."""
    with sessions.begin() as session:
        # Writing first takes the knowledge base's lock (see editing.py).
        meta = session.get(KbMeta, META_ID, with_for_update=True)
        if meta is None:
            raise NotFound("There is no knowledge base yet.")
        meta.updated_at = utc_now()
        session.flush()
        kb = read_knowledge_base(session) or KnowledgeBase()
        known = {normalize(text) for text in kb.decline_examples}
        added: dict[int, str] = {}
        for message in messages:
            text = (message.text or "").strip()
            if normalize(text) not in known:
                known.add(normalize(text))
                added[message.id] = text
        if not added:
            return meta.kb_revision, set()
        try:
            changed = KnowledgeBase.model_validate(
                {
                    **kb.model_dump(),
                    "decline_examples": [*kb.decline_examples, *added.values()],
                }
            )
        except ValidationError as error:
            raise ReviewInvalid(str(error.errors()[0]["msg"]), "unusable") from None
        revision = replace_knowledge_base(session, changed)
        revisions.record_declines(
            session, actor, kb.decline_examples, changed.decline_examples
        )
    return revision, set(added)


def _verify(runtime: Runtime, decision: ReviewDecision, text: str) -> Verification:
    def shown(
        state: str,
        outcome: str | None = None,
        intents: tuple[str, ...] = (),
        confidence: float | None = None,
    ) -> Verification:
        return Verification(
            decision.message_id,
            text,
            decision.action,
            decision.intent_id,
            state,
            outcome,
            tuple(intents),
            confidence,
            decision.decided_at,
        )

    # A draft is never trained, so it is not waited for: it goes live only
    # when an editor activates it (a later revision of its own).
    if (
        decision.action == "new_intent"
        and runtime.view.intent(decision.intent_id) is None
    ):
        return shown("draft")
    if decision.kb_revision is not None and runtime.kb_revision < decision.kb_revision:
        return shown("training")
    now = runtime.model.classify(text)
    if decision.action == "out_of_scope":
        fixed = now.kind == "decline"
    else:
        fixed = now.kind in ("answer", "multi") and decision.intent_id in now.intents
    return shown(
        "fixed" if fixed else "not_fixed", now.kind, now.intents, now.confidence
    )
