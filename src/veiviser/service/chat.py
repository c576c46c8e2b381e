"""The chat service: conversations, turns, history and feedback.

This is where a member's words are cleaned and masked; everything after
this point (the model, the database, the logs) sees only the masked text.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from veiviser.dialogue import ConversationState, Reply, greeting, take_turn
from veiviser.dialogue.turn import Button, after_thumbs_down, remember_buttons
from veiviser.dialogue.view import KnowledgeView
from veiviser.errors import EmptyMessage, StorageUnavailable
from veiviser.handover.errors import WithPerson
from veiviser.insight.visitors import visitor_hash
from veiviser.nlu.decision import Decision
from veiviser.review.erasure import Erased, erase_conversation, record_erasure
from veiviser.service.errors import (
    ConversationNotFound,
    MessageNotFound,
    NotAReply,
    TokenMissing,
    WrongToken,
)
from veiviser.service.members import ANONYMOUS, Login, PersonalAnswers, StoredReply
from veiviser.service.runtime import ModelHolder, Runtime
from veiviser.store import conversations as repo
from veiviser.store.models import Conversation, Message, utc_now
from veiviser.text import clean_message, normalize
from veiviser.text.language import guess_language
from veiviser.text.masking import mask_personal_data

log = logging.getLogger(__name__)

MAX_COMMENT_CHARS = 1000
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Two turns of one conversation racing for the same sequence number: the
# loser recomputes its number and tries again.
SEQ_RETRIES = 3


class HandoverHooks(Protocol):
    """What the chat needs from the handover (``service.handover``)."""

    def is_with_person(self, conversation_id: str) -> bool: ...

    def offer(self, reply: Reply, view: KnowledgeView) -> Reply: ...


@dataclass(frozen=True)
class ShownButton:
    """A button as the member sees it."""

    label: str
    payload: str


@dataclass(frozen=True)
class MessageView:
    """One stored message, as shown in the history and in replies."""

    seq: int
    role: str
    text: str | None
    html: str | None
    outcome: str | None
    intent: str | None
    intents: tuple[str, ...]
    confidence: float | None
    buttons: tuple[ShownButton, ...]
    created_at: datetime

    @classmethod
    def from_row(cls, row: Message) -> MessageView:
        return cls(
            seq=row.seq,
            role=row.role,
            text=row.text,
            html=row.html,
            outcome=row.outcome,
            intent=row.intent,
            intents=tuple(row.intents or ()),
            confidence=row.confidence,
            buttons=tuple(
                ShownButton(b["label"], b["payload"]) for b in row.buttons or ()
            ),
            created_at=row.created_at,
        )


@dataclass(frozen=True)
class NewConversation:
    """A conversation just opened: the token is shown once, never again."""

    id: str
    token: str
    greeting: MessageView


@dataclass(frozen=True)
class Exchange:
    """A member's message (as stored, masked) and the assistant's reply."""

    member: MessageView
    reply: MessageView


def without_lone_surrogates(text: str) -> str:
    """``text`` with unpaired UTF-16 surrogates replaced by U+FFFD.

    JSON may carry "\\ud83d" alone; Python accepts it, but no database can
    store it as UTF-8.
    """
    return _LONE_SURROGATE.sub("\ufffd", text)


def token_hash(token: str) -> str:
    """The stored form of a conversation token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ChatService:
    """Opens conversations and answers members; the web and CLI call this.

    Args:
        sessions: database sessions.
        models: the model in use.
        max_message_chars: longest message accepted.
        personal: member login and personal answers (off without it).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        models: ModelHolder,
        max_message_chars: int = 2000,
        personal: PersonalAnswers | None = None,
    ) -> None:
        self.sessions = sessions
        self.models = models
        self.max_message_chars = max_message_chars
        self.personal = personal or PersonalAnswers(None)
        # Set by the Assistant; without it a handover shows contact details.
        self.handover: HandoverHooks | None = None

    def start(
        self, visitor_id: str | None = None, now: datetime | None = None
    ) -> NewConversation:
        """Open a conversation with a greeting.

        Args:
            visitor_id: the browser's random visitor id, kept only as a keyed
                hash for counting returning visitors; never a member's id.
            now: the time to record (simulated traffic); defaults to now.
        """
        runtime = self.models.require()
        conversation_id = secrets.token_hex(16)
        token = secrets.token_urlsafe(32)
        reply = greeting(runtime.view)
        state = remember_buttons(ConversationState(), reply)
        with self._writing() as session:
            conversation = repo.create_conversation(
                session, conversation_id, token_hash(token), state.to_json()
            )
            conversation.visitor_hash = visitor_hash(session, visitor_id)
            if now is not None:
                conversation.created_at = conversation.last_activity_at = now
            row = repo.add_message(
                session, _assistant_row(conversation_id, 1, reply, runtime, now)
            )
            shown = MessageView.from_row(row)
        log.info("conversation %s opened", conversation_id[:8])
        return NewConversation(conversation_id, token, shown)

    def send(
        self,
        conversation_id: str,
        token: str | None,
        text: str,
        client_id: str | None = None,
        login: Login = ANONYMOUS,
        now: datetime | None = None,
    ) -> Exchange:
        """Answer one member message.

        Args:
            conversation_id: the conversation.
            token: its token.
            text: the member's message as typed.
            client_id: the browser's id for this message. A retry with the same
                id returns the stored exchange instead of answering twice.
            login: who the request speaks for (``identify``); decides what a
                personal answer shows.
            now: the time to record (simulated traffic); defaults to now.

        Raises:
            EmptyMessage: nothing but whitespace.
            MessageTooLong: over the character limit.
            ConversationNotFound, TokenMissing, WrongToken: see the names.
            NotTrained: no model is loaded yet.
        """
        # This read only turns away unknown ids and wrong tokens early; the
        # turn itself is decided on the state read again under the row lock.
        state = self._authorised_state(conversation_id, token)
        if client_id is not None:
            earlier = self._earlier_exchange(conversation_id, client_id)
            if earlier is not None:
                return self._personal_exchange(conversation_id, earlier, login)
        if self.handover is not None and self.handover.is_with_person(conversation_id):
            # A person has the conversation (or the member waits for one):
            # the assistant stays silent.
            raise WithPerson("A person has this conversation; the assistant waits.")
        cleaned = clean_message(without_lone_surrogates(text), self.max_message_chars)
        masked = mask_personal_data(cleaned)
        runtime = self.models.require()

        classify = _classify_early(runtime, masked.text, state)

        def decide(current: ConversationState) -> tuple[Reply, ConversationState]:
            reply, new_state = take_turn(current, masked.text, classify, runtime.view)
            if reply.outcome == "handover" and self.handover is not None:
                reply = self.handover.offer(reply, runtime.view)
            return reply, new_state

        member = Message(
            conversation_id=conversation_id,
            role=repo.MEMBER,
            text=masked.text,
            language=guess_language(masked.text),
            masked=sorted({kind.value for kind in masked.found}),
            client_id=client_id,
            created_at=now or utc_now(),
        )
        exchange = self._store_turn(conversation_id, member, decide, runtime)
        # The decision is logged, never the words, not even masked: masking
        # does not catch names, and a logged-in member may type their own.
        # Limitation: the masked words are stored, so a name a logged-in
        # member types stays in `message`; masking the member's own record
        # values first would retire this, at a directory lookup per message.
        log.info(
            "conversation %s: %s %s (%.2f)%s",
            conversation_id[:8],
            exchange.reply.outcome,
            exchange.reply.intent or "-",
            exchange.reply.confidence or 0.0,
            f", masked {member.masked}" if member.masked else "",
        )
        return self._personal_exchange(conversation_id, exchange, login, new=True)

    def history(
        self,
        conversation_id: str,
        token: str | None,
        after: int = 0,
        login: Login = ANONYMOUS,
    ) -> list[MessageView]:
        """The conversation's messages after sequence number ``after``.

        A reply that used a personal template shows the personal answer
        again only to a request whose ``login`` is a member (with today's
        values); anyone else sees the general answer.
        """
        self._authorised_state(conversation_id, token)
        with self._reading() as session:
            rows = repo.list_messages(session, conversation_id, after=after)
        views = [MessageView.from_row(row) for row in rows]
        return self._with_personal(conversation_id, views, login)

    def feedback(
        self,
        conversation_id: str,
        token: str | None,
        seq: int,
        rating: str,
        comment: str | None,
        now: datetime | None = None,
    ) -> None:
        """Record the member's rating of one reply, with an optional comment.

        ``now`` is the time to record (simulated traffic); defaults to now.

        Raises:
            MessageNotFound: no message has this number.
            NotAReply: the message is the member's own.
            MessageTooLong: the comment is over the limit.
        """
        self._authorised_state(conversation_id, token)
        masked_comment = _masked_comment(comment)
        with self._writing() as session:
            message = repo.get_message(session, conversation_id, seq)
            if message is None:
                raise MessageNotFound(
                    f"Conversation has no message {seq}.", details={"seq": seq}
                )
            if message.role != repo.ASSISTANT:
                raise NotAReply(
                    f"Message {seq} is the member's own; rate a reply.",
                    details={"seq": seq},
                )
            saved = repo.save_feedback(session, message.id, rating, masked_comment)
            if rating == "down":
                self._note_thumbs_down(session, conversation_id)
            if now is not None:
                saved.created_at = now
        log.info("conversation %s: feedback %s on %d", conversation_id[:8], rating, seq)

    def delete(self, conversation_id: str, token: str | None) -> Erased:
        """Delete the conversation and everything stored with it.

        Training phrases made from its messages go too, and the erasure is
        recorded (without content) in the erasure log.

        Returns:
            What was erased; ``changed_knowledge`` means a new model is due.

        Raises:
            ConversationNotFound, TokenMissing, WrongToken: see the names.
        """
        self._authorised_state(conversation_id, token)
        with self._writing() as session:
            erased = erase_conversation(session, conversation_id)
            record_erasure(session, "member", None, erased)
        log.info("conversation %s deleted by the member", conversation_id[:8])
        return erased

    def authorise(self, conversation_id: str, token: str | None) -> None:
        """Check a conversation's token (for the handover's endpoints).

        Raises:
            ConversationNotFound, TokenMissing, WrongToken: see the names.
        """
        self._authorised_state(conversation_id, token)

    def _note_thumbs_down(self, session: Session, conversation_id: str) -> None:
        # After a thumbs down, a wish for help goes straight to a person.
        runtime = self.models.current
        conversation = repo.get_conversation(session, conversation_id)
        if runtime is None or conversation is None:
            return
        state = ConversationState.from_json(conversation.state)
        conversation.state = after_thumbs_down(state, runtime.view).to_json()

    def identify(self, member_token: str | None) -> Login:
        """Who a request's member token proves; a bad token is a failed login."""
        return self.personal.identify(member_token)

    def _personal_exchange(
        self, conversation_id: str, exchange: Exchange, login: Login, new: bool = False
    ) -> Exchange:
        views = self._with_personal(conversation_id, [exchange.reply], login, new)
        return Exchange(exchange.member, views[0])

    def _with_personal(
        self,
        conversation_id: str,
        views: list[MessageView],
        login: Login,
        new: bool = False,
    ) -> list[MessageView]:
        # The reply is stored first, as the general answer; its template is
        # marked after, so the turn's lock is never held while the member
        # directory is asked. A lost mark only means the general answer.
        runtime = self.models.current
        replies = [v for v in views if v.role == repo.ASSISTANT]
        if runtime is None or not replies:
            return views
        with self._writing() if new else self._reading() as session:
            for reply in replies if new else ():
                self.personal.mark(
                    session,
                    conversation_id,
                    reply.seq,
                    reply.outcome,
                    reply.intents,
                    runtime.view,
                )
            templates = self.personal.templates(
                session, conversation_id, [v.seq for v in replies]
            )
        general = {
            v.seq: StoredReply(templates[v.seq], v.html or "", v.intents)
            for v in replies
            if v.seq in templates
        }
        shown = self.personal.shown(general, login, runtime.view)
        return [replace(v, html=shown[v.seq]) if v.seq in shown else v for v in views]

    def _earlier_exchange(
        self, conversation_id: str, client_id: str
    ) -> Exchange | None:
        with self._reading() as session:
            return _stored_exchange(session, conversation_id, client_id)

    def _authorised_state(
        self, conversation_id: str, token: str | None
    ) -> ConversationState:
        with self._reading() as session:
            conversation = repo.get_conversation(session, conversation_id)
        authorised = _check_token(conversation, conversation_id, token)
        return ConversationState.from_json(authorised.state)

    def _store_turn(
        self,
        conversation_id: str,
        member: Message,
        decide: Callable[[ConversationState], tuple[Reply, ConversationState]],
        runtime: Runtime,
    ) -> Exchange:
        for attempt in range(SEQ_RETRIES):
            try:
                with self._writing() as session:
                    return self._turn_under_lock(
                        session, conversation_id, member, decide, runtime
                    )
            except IntegrityError:
                # The lock makes a clash rare (a retry racing its original
                # across a deleted-and-recreated id); the first copy won.
                if member.client_id is not None:
                    earlier = self._earlier_exchange(conversation_id, member.client_id)
                    if earlier is not None:
                        return earlier
                if attempt == SEQ_RETRIES - 1:
                    raise StorageUnavailable(
                        "Could not store the turn; too many messages at once."
                    ) from None
        raise AssertionError("unreachable")

    @staticmethod
    def _turn_under_lock(
        session: Session,
        conversation_id: str,
        member: Message,
        decide: Callable[[ConversationState], tuple[Reply, ConversationState]],
        runtime: Runtime,
    ) -> Exchange:
        conversation = _lock_conversation(session, conversation_id)
        if member.client_id is not None:
            # A retry that waited for the lock while its original was stored.
            stored = _stored_exchange(session, conversation_id, member.client_id)
            if stored is not None:
                return stored
        reply, state = decide(ConversationState.from_json(conversation.state))
        conversation.state = state.to_json()
        seq = repo.next_seq(session, conversation_id)
        member_row = _copy(member, seq)
        repo.add_message(session, member_row)
        assistant = _assistant_row(
            conversation_id, seq + 1, reply, runtime, member.created_at
        )
        repo.add_message(session, assistant)
        return Exchange(
            MessageView.from_row(member_row), MessageView.from_row(assistant)
        )

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        with _storage_errors(), self.sessions.begin() as session:
            yield session

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with _storage_errors(), self.sessions() as session:
            yield session


def _lock_conversation(session: Session, conversation_id: str) -> Conversation:
    """Lock the conversation for one turn and read its state under the lock.

    The first statement is a write: on PostgreSQL it locks the row (turns of
    other conversations go on), on SQLite it takes the database's write lock
    before anything is read, so the state read next is the one the previous
    turn committed and no other turn can commit in between.

    Raises:
        ConversationNotFound: the conversation was deleted meanwhile.
    """
    touched = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_activity_at=utc_now())
    )
    if touched.rowcount == 0:  # type: ignore[attr-defined]
        raise ConversationNotFound("The conversation was deleted.")
    conversation = repo.get_conversation(session, conversation_id, for_update=True)
    if conversation is None:
        raise ConversationNotFound("The conversation was deleted.")
    return conversation


def _stored_exchange(
    session: Session, conversation_id: str, client_id: str
) -> Exchange | None:
    """The exchange already stored for a browser's message id, if any."""
    member = repo.message_by_client_id(session, conversation_id, client_id)
    if member is None:
        return None
    reply = repo.get_message(session, conversation_id, member.seq + 1)
    if reply is None or reply.role != repo.ASSISTANT:
        return None
    log.info("conversation %s: repeated send answered again", conversation_id[:8])
    return Exchange(MessageView.from_row(member), MessageView.from_row(reply))


def _classify_early(
    runtime: Runtime, text: str, state: ConversationState
) -> Callable[[str], Decision]:
    """The model's classify, with this message's decision computed now.

    Classifying (the encoder, ~10 ms) happens before the turn takes its lock,
    so the lock is held only for the dialogue rules and the writes. A button
    press needs no model; if the state changed meanwhile, the model runs
    under the lock after all.
    """
    classify = runtime.model.classify
    if state.offers.get(normalize(text)) is not None:
        return classify
    early = classify(text)
    return lambda asked: early if asked == text else classify(asked)


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Turn a database that cannot be reached or written into a named error."""
    try:
        yield
    except OperationalError as error:
        log.error("database unavailable: %s", type(error.orig).__name__)
        raise StorageUnavailable("The database cannot be used right now.") from error


def _check_token(
    conversation: Conversation | None, conversation_id: str, token: str | None
) -> Conversation:
    if conversation is None:
        raise ConversationNotFound(
            "No conversation has this id.", details={"conversation": conversation_id}
        )
    if not token:
        raise TokenMissing("The conversation token is missing.")
    if not hmac.compare_digest(token_hash(token), conversation.token_hash):
        raise WrongToken("The conversation token does not match.")
    return conversation


def _masked_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    try:
        cleaned = clean_message(without_lone_surrogates(comment), MAX_COMMENT_CHARS)
    except EmptyMessage:
        return None
    return mask_personal_data(cleaned).text


def _copy(member: Message, seq: int) -> Message:
    return Message(
        conversation_id=member.conversation_id,
        seq=seq,
        role=member.role,
        text=member.text,
        language=member.language,
        masked=member.masked,
        client_id=member.client_id,
        created_at=member.created_at,
    )


def _assistant_row(
    conversation_id: str,
    seq: int,
    reply: Reply,
    runtime: Runtime,
    created_at: datetime | None = None,
) -> Message:
    return Message(
        conversation_id=conversation_id,
        seq=seq,
        role=repo.ASSISTANT,
        html=reply.html,
        buttons=[_button_json(b) for b in reply.buttons],
        outcome=reply.outcome,
        intent=reply.intent,
        intents=list(reply.intents),
        confidence=reply.confidence,
        alternatives=[
            {"intent": c.intent, "confidence": round(c.confidence, 4)}
            for c in reply.alternatives
        ],
        model_version_id=runtime.model_version_id,
        created_at=created_at or utc_now(),
    )


def _button_json(button: Button) -> dict[str, str]:
    return {"label": button.label, "payload": button.payload}
