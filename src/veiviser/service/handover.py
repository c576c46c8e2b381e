"""Handover to a person: the member's side, the advisors' side, the hours.

Everything goes through the database, so any server process can serve the
member while another serves the advisor: the queue is the ``handover``
table, claims are conditional updates, live messages are numbered events,
typing and presence are timestamps, and an advisor whose browser stopped
beating loses the conversation back to the queue.

The clock is injected (``clock``) so that opening hours, heartbeats and
waiting times can be tested at any moment of any day.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from veiviser.dialogue import Reply
from veiviser.dialogue.view import KnowledgeView
from veiviser.errors import StorageUnavailable
from veiviser.handover import events, notify, presence, queue, schedule, tickets
from veiviser.handover.errors import (
    AlreadyClaimed,
    HandoverConflict,
    HandoverNotFound,
)
from veiviser.handover.hours import DayHours, Interval, OpeningHours
from veiviser.service import revisions
from veiviser.service.runtime import ModelHolder
from veiviser.settings import Settings
from veiviser.store import conversations as conversation_repo
from veiviser.store.models import Conversation, Message, utc_now
from veiviser.store.models_handover import (
    ACTIVE,
    ENDED,
    OPEN_STATES,
    RETURNED,
    Handover,
    HandoverEvent,
    HandoverTicket,
)
from veiviser.text import clean_message
from veiviser.text.masking import mask_personal_data

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Authorise = Callable[[str, str | None], None]
# Reasons a person was offered, as the dialogue records them.
REASONS = ("asked", "offer", "declines", "thumbs_down")
# Typing shows for this long after the last keystroke signal.
TYPING_SECONDS = 6.0
# Transcript lines shown to the advisor.
TRANSCRIPT_LIMIT = 200
_TAG = re.compile(r"<[^>]*>")
# Tickets are purged at most this often by one process.
PURGE_EVERY = timedelta(minutes=10)


class Advisor(Protocol):
    """A logged-in staff member with the advisor role (StaffUser fits)."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...


class MemberIdentity(Protocol):
    """A member's verified identity from the member portal (veiviser.members)."""

    @property
    def member_id(self) -> str: ...

    @property
    def display_name(self) -> str: ...


@dataclass(frozen=True)
class Availability:
    """Whether a person can take a chat now, and the hours to show if not.

    ``reason`` is ``open`` (someone can take it), ``busy`` (open but no
    advisor available), ``closed``, ``holiday`` or ``exception`` (closed on
    this date by an exception).
    """

    reason: str
    advisors: int
    days: tuple[DayHours, ...]
    holiday: str | None = None
    note: str = ""
    next_opening: datetime | None = None

    @property
    def live(self) -> bool:
        return self.reason == "open"


@dataclass(frozen=True)
class EventView:
    """One live event as a browser sees it."""

    seq: int
    kind: str
    text: str | None
    advisor_name: str | None
    message_seq: int
    created_at: datetime

    @classmethod
    def from_row(cls, row: HandoverEvent) -> EventView:
        return cls(
            row.seq,
            row.kind,
            row.text,
            row.advisor_name,
            row.message_seq,
            row.created_at,
        )


@dataclass(frozen=True)
class HandoverStatus:
    """The member's view of their handover.

    ``state`` is ``none`` (never asked), ``queued``, ``active``, ``ended`` or
    ``returned`` (handed back to the assistant).
    """

    state: str
    position: int
    advisor_typing: bool
    last_seq: int
    availability: Availability
    identity_shared: bool = False


@dataclass(frozen=True)
class QueueEntry:
    """A handover as advisors see it in the queue or in their own list."""

    id: int
    conversation_id: str
    status: str
    reason: str
    topic_title: str | None
    identity: dict[str, Any] | None
    requested_at: datetime
    claimed_at: datetime | None
    advisor_name: str | None
    requeued: int
    member_typing: bool
    position: int


@dataclass(frozen=True)
class TranscriptLine:
    """A line of the conversation before the handover, for the advisor."""

    seq: int
    role: str
    text: str
    outcome: str | None
    intent: str | None


@dataclass(frozen=True)
class AdvisorConversation:
    """What the advisor sees of a conversation: masked, anonymous by default."""

    entry: QueueEntry
    transcript: tuple[TranscriptLine, ...]
    events: tuple[EventView, ...]


class HandoverService:
    """The handover's operations, for the web layer, the CLI and ChatService.

    Args:
        sessions: database sessions.
        settings: the process's settings.
        models: the model in use (its knowledge view gives titles and texts).
        authorise: checks a conversation's token; raises the chat's errors.
        clock: the current time, timezone-aware.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        models: ModelHolder,
        authorise: Authorise,
        clock: Clock = utc_now,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.models = models
        self.authorise = authorise
        self.clock = clock
        self.smtp = notify.SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            recipients=settings.smtp_to,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password,
        )
        self._last_purge: datetime | None = None

    # --- Opening hours -------------------------------------------------------

    def opening_hours(self) -> OpeningHours:
        """The stored hours in the configured time zone."""
        with self._reading() as session:
            return schedule.load_opening_hours(session, self.settings.handover_timezone)

    def availability(self) -> Availability:
        """Whether a person can take a chat right now."""
        now = self.clock()
        hours = self.opening_hours()
        state = hours.state_at(now)
        with self._reading() as session:
            advisors = presence.available_count(session, self._alive_since(now))
        reason = state.reason if not state.open else ("open" if advisors else "busy")
        return Availability(
            reason=reason,
            advisors=advisors,
            days=tuple(hours.days_ahead(now)),
            holiday=state.holiday,
            note=state.note,
            next_opening=state.next_opening,
        )

    def save_week(
        self, week: dict[int, list[Interval]], actor: str = revisions.SYSTEM
    ) -> None:
        """Replace the weekly schedule (see ``schedule.save_week``)."""
        with self._writing() as session:
            before = revisions.hours_snapshot(session)
            schedule.save_week(session, week)
            revisions.record_hours(session, actor, before)
        log.info("opening hours changed")

    def save_exception(
        self,
        day: date,
        interval: Interval | None,
        note: str,
        actor: str = revisions.SYSTEM,
    ) -> None:
        """Close a date, or give it special hours."""
        with self._writing() as session:
            before = revisions.hours_snapshot(session)
            schedule.save_exception(session, day, interval, note)
            revisions.record_hours(session, actor, before)
        log.info("opening-hours exception saved for %s", day.isoformat())

    def delete_exception(self, day: date, actor: str = revisions.SYSTEM) -> bool:
        """Remove a date's exception; True if there was one."""
        with self._writing() as session:
            before = revisions.hours_snapshot(session)
            deleted = schedule.delete_exception(session, day)
            revisions.record_hours(session, actor, before)
            return deleted

    def exceptions(self) -> list[Any]:
        """Exceptions from today on."""
        today = self.clock().astimezone(self.opening_hours().zone).date()
        with self._reading() as session:
            return schedule.list_exceptions(session, today)

    # --- ChatService's hooks -------------------------------------------------

    def is_with_person(self, conversation_id: str) -> bool:
        """True while the conversation is queued for or held by a person."""
        with self._reading() as session:
            return queue.open_for(session, conversation_id) is not None

    def offer(self, reply: Reply, view: KnowledgeView) -> Reply:
        """The handover reply with what is possible now in place of its text."""
        available = self.availability()
        return replace(reply, html=offer_html(available, view))

    # --- The member's side ---------------------------------------------------

    def status(self, conversation_id: str, token: str | None) -> HandoverStatus:
        """The member's handover state, queue place and availability."""
        self.authorise(conversation_id, token)
        self.sweep()
        return self._status(conversation_id)

    def request(
        self,
        conversation_id: str,
        token: str | None,
        *,
        consent: bool = False,
        identity: MemberIdentity | None = None,
    ) -> HandoverStatus:
        """Queue the conversation for an advisor, if one can take it now.

        When nobody can (closed, holiday, nobody available) nothing is queued
        and the status says why, so the member can leave a message instead.
        A conversation already queued or held stays as it is.

        Args:
            consent: the member agreed to show who they are to the advisor.
            identity: the member's verified identity, if logged in. Stored
                only with consent; without it the advisor sees no one.
        """
        self.authorise(conversation_id, token)
        self.sweep()
        if not self.availability().live:
            return self._status(conversation_id)
        shown = _shown_identity(identity) if consent else None
        now = self.clock()
        topic, title = self._topic(conversation_id)
        reason = self._reason(conversation_id)
        try:
            with self._writing() as session:
                handover = queue.enqueue(
                    session,
                    conversation_id,
                    reason=reason,
                    topic=topic,
                    topic_title=title,
                    identity=shown,
                    now=now,
                )
                events.append(session, handover, events.QUEUED, now)
        except IntegrityError:
            log.debug("conversation %s already queued", conversation_id[:8])
        else:
            log.info(
                "conversation %s queued for an advisor (%s)",
                conversation_id[:8],
                reason,
            )
        return self._status(conversation_id)

    def send(
        self,
        conversation_id: str,
        token: str | None,
        text: str,
        client_id: str | None = None,
    ) -> EventView:
        """The member's message to the advisor (masked before it is stored).

        Raises:
            HandoverNotFound: no person has or awaits the conversation.
            EmptyMessage, MessageTooLong: see the names.
        """
        self.authorise(conversation_id, token)
        cleaned = clean_message(text, self.settings.max_message_chars)
        masked = mask_personal_data(cleaned).text
        now = self.clock()
        try:
            with self._writing() as session:
                handover = self._open(session, conversation_id)
                queue.lock(session, handover.id)
                if client_id is not None:
                    earlier = events.by_client_id(session, conversation_id, client_id)
                    if earlier is not None:
                        return EventView.from_row(earlier)
                handover.member_typing_at = None
                event = events.append(
                    session,
                    handover,
                    events.MEMBER,
                    now,
                    text=masked,
                    client_id=client_id,
                )
                _touch(session, conversation_id, now)
                return EventView.from_row(event)
        except IntegrityError:
            # The same message retried at the same instant: the first won.
            return self._earlier_event(conversation_id, client_id)

    def member_typing(self, conversation_id: str, token: str | None) -> None:
        """Note that the member is typing (shown to the advisor for a while)."""
        self.authorise(conversation_id, token)
        with self._writing() as session:
            handover = queue.open_for(session, conversation_id)
            if handover is not None:
                handover.member_typing_at = self.clock()

    def leave(self, conversation_id: str, token: str | None) -> HandoverStatus:
        """The member leaves the queue or ends the chat with the advisor."""
        self.authorise(conversation_id, token)
        now = self.clock()
        with self._writing() as session:
            handover = queue.open_for(session, conversation_id)
            if handover is not None and queue.finish(
                session, handover.id, ENDED, "member", now
            ):
                events.append(session, handover, events.ENDED, now, text="member")
        log.info("conversation %s: member ended the handover", conversation_id[:8])
        return self._status(conversation_id)

    def events_after(
        self, conversation_id: str, token: str | None, after: int
    ) -> list[EventView]:
        """The conversation's live events numbered above ``after``."""
        self.authorise(conversation_id, token)
        return self.read_events(conversation_id, after)

    def read_events(self, conversation_id: str, after: int) -> list[EventView]:
        """Events after ``after``, for a stream that already checked access."""
        with self._reading() as session:
            rows = events.after(session, conversation_id, after)
            return [EventView.from_row(row) for row in rows]

    def stream_status(self, conversation_id: str) -> HandoverStatus:
        """The status for a stream that already checked access."""
        return self._status(conversation_id, with_availability=False)

    def leave_message(
        self, conversation_id: str, token: str | None, form: tickets.ContactForm
    ) -> int:
        """Turn the member's contact form into a ticket; its id.

        Raises:
            InvalidTicket: see ``tickets.check_form``.
        """
        self.authorise(conversation_id, token)
        checked = tickets.check_form(form, self.settings.max_message_chars)
        _, title = self._topic(conversation_id)
        consent_text = self._consent_text()
        with self._writing() as session:
            ticket = tickets.create(
                session,
                conversation_id,
                checked,
                consent_text=consent_text,
                topic_title=title,
                now=self.clock(),
            )
            ticket_id = ticket.id
        log.info(
            "conversation %s: message left as ticket %d", conversation_id[:8], ticket_id
        )
        self._notify(title)
        return ticket_id

    # --- The advisors' side --------------------------------------------------

    def set_available(self, advisor: Advisor, available: bool) -> None:
        """Mark the advisor available for chats, or away."""
        with self._writing() as session:
            presence.set_available(
                session, advisor.id, advisor.username, available, self.clock()
            )
        log.info("advisor %d is %s", advisor.id, "available" if available else "away")

    def is_available(self, advisor: Advisor) -> bool:
        """Whether the advisor counts as available now."""
        now = self.clock()
        with self._reading() as session:
            return presence.is_available(session, advisor.id, self._alive_since(now))

    def beat(self, advisor: Advisor) -> None:
        """The advisor's browser is still there: presence and every chat held."""
        now = self.clock()
        with self._writing() as session:
            presence.beat(session, advisor.id, now)
            for handover in queue.active_for(session, advisor.id):
                queue.advisor_beat(session, handover.id, advisor.id, now)
        self.sweep()

    def queue_entries(self) -> list[QueueEntry]:
        """Everyone waiting, the longest waiting first."""
        self.sweep()
        with self._reading() as session:
            rows = queue.queued(session)
            return [self._entry(row, position) for position, row in enumerate(rows, 1)]

    def held_by(self, advisor: Advisor) -> list[QueueEntry]:
        """The conversations the advisor has now."""
        with self._reading() as session:
            return [
                self._entry(row, 0) for row in queue.active_for(session, advisor.id)
            ]

    def claim(self, advisor: Advisor, handover_id: int) -> QueueEntry:
        """Take a conversation from the queue.

        Raises:
            AlreadyClaimed: another advisor took it first (or it ended).
        """
        now = self.clock()
        with self._writing() as session:
            if not queue.claim(session, handover_id, advisor.id, advisor.username, now):
                raise AlreadyClaimed(
                    "Another advisor took this conversation first.",
                    details={"handover": handover_id},
                )
            handover = self._get(session, handover_id)
            events.append(
                session, handover, events.JOINED, now, advisor_name=advisor.username
            )
            entry = self._entry(handover, 0)
        log.info("advisor %d took handover %d", advisor.id, handover_id)
        return entry

    def conversation(self, advisor: Advisor, handover_id: int) -> AdvisorConversation:
        """The masked transcript, the live events and who the member is (if shared)."""
        with self._reading() as session:
            handover = self._get(session, handover_id)
            transcript = _transcript(session, handover.conversation_id)
            shown = events.after(session, handover.conversation_id, 0)
            return AdvisorConversation(
                self._entry(handover, queue.position(session, handover)),
                tuple(transcript),
                tuple(EventView.from_row(row) for row in shown),
            )

    def advisor_send(self, advisor: Advisor, handover_id: int, text: str) -> EventView:
        """The advisor's message to the member.

        Raises:
            HandoverConflict: the advisor does not hold this conversation.
        """
        # Masked like a member's words, except the organisation's own phone
        # number and e-mail address, which an advisor must be able to give.
        cleaned = mask_personal_data(
            clean_message(text, self.settings.max_message_chars),
            keep=self._office_contacts(),
        ).text
        now = self.clock()
        with self._writing() as session:
            queue.lock(session, handover_id)
            handover = self._held(session, advisor, handover_id)
            handover.advisor_typing_at = None
            handover.advisor_heartbeat_at = now
            event = events.append(
                session,
                handover,
                events.ADVISOR,
                now,
                text=cleaned,
                advisor_name=advisor.username,
            )
            _touch(session, handover.conversation_id, now)
            return EventView.from_row(event)

    def advisor_typing(self, advisor: Advisor, handover_id: int) -> None:
        """Note that the advisor is typing."""
        with self._writing() as session:
            handover = self._held(session, advisor, handover_id)
            handover.advisor_typing_at = self.clock()

    def advisor_events(
        self, advisor: Advisor, handover_id: int, after: int
    ) -> tuple[QueueEntry, list[EventView]]:
        """Events after ``after`` for the advisor's view; also a heartbeat."""
        now = self.clock()
        with self._writing() as session:
            handover = self._get(session, handover_id)
            if handover.status == ACTIVE and handover.claimed_by == advisor.id:
                queue.advisor_beat(session, handover_id, advisor.id, now)
                presence.beat(session, advisor.id, now)
            rows = events.after(session, handover.conversation_id, after)
            entry = self._entry(handover, queue.position(session, handover))
            return entry, [EventView.from_row(row) for row in rows]

    def hand_back(self, advisor: Advisor, handover_id: int) -> None:
        """Give the conversation back to the assistant."""
        self._finish(advisor, handover_id, RETURNED, events.RETURNED)

    def end(self, advisor: Advisor, handover_id: int) -> None:
        """End the conversation with the member."""
        self._finish(advisor, handover_id, ENDED, events.ENDED)

    def _finish(
        self, advisor: Advisor, handover_id: int, status: str, kind: str
    ) -> None:
        now = self.clock()
        with self._writing() as session:
            if not queue.finish(
                session, handover_id, status, "advisor", now, advisor.id
            ):
                raise HandoverConflict(
                    "The advisor does not hold this conversation.",
                    details={"handover": handover_id},
                )
            handover = self._get(session, handover_id)
            events.append(
                session,
                handover,
                kind,
                now,
                text="advisor",
                advisor_name=advisor.username,
            )
        log.info("advisor %d: handover %d %s", advisor.id, handover_id, status)

    def sweep(self) -> int:
        """Return chats of silent advisors to the queue; purge old tickets.

        Any process may run it at any time: each return is a conditional
        update, so two sweeps never return the same chat twice.
        """
        now = self.clock()
        stale_before = self._alive_since(now)
        returned = 0
        with self._reading() as session:
            candidates = queue.stale(session, stale_before)
        for handover_id in candidates:
            with self._writing() as session:
                if queue.requeue(session, handover_id, stale_before):
                    events.append(
                        session, self._get(session, handover_id), events.REQUEUED, now
                    )
                    returned += 1
        if returned:
            log.info("%d conversation(s) returned to the queue", returned)
        self._purge_tickets(now)
        return returned

    # --- Tickets ---------------------------------------------------------------

    def tickets(self, status: str | None = tickets.OPEN) -> list[HandoverTicket]:
        """Tickets to deal with (or closed ones)."""
        self._purge_tickets(self.clock())
        with self._reading() as session:
            return tickets.listed(session, status)

    def close_ticket(self, advisor: Advisor, ticket_id: int) -> None:
        """Mark a ticket as dealt with."""
        with self._writing() as session:
            tickets.close(session, ticket_id, advisor.username, self.clock())
        log.info("advisor %d closed ticket %d", advisor.id, ticket_id)

    def _purge_tickets(self, now: datetime) -> None:
        if self._last_purge is not None and now - self._last_purge < PURGE_EVERY:
            return
        self._last_purge = now
        cutoff = now - timedelta(days=self.settings.retention_days)
        with self._writing() as session:
            gone = tickets.purge(session, cutoff)
        if gone:
            log.info("%d ticket(s) deleted under retention", gone)

    def _notify(self, topic: str | None) -> None:
        if not self.smtp.enabled:
            return
        base = self.settings.public_url.rstrip("/")
        subject, body = notify.ticket_notice(topic, f"{base}/admin/handover/tickets")
        # SMTP may be slow; the member's request does not wait for it.
        threading.Thread(
            target=notify.send, args=(self.smtp, subject, body), daemon=True
        ).start()

    # --- Helpers ------------------------------------------------------------------

    def _alive_since(self, now: datetime) -> datetime:
        return now - timedelta(seconds=self.settings.handover_heartbeat_seconds)

    def _typing(self, at: datetime | None) -> bool:
        return at is not None and self.clock() - at < timedelta(seconds=TYPING_SECONDS)

    def _status(
        self, conversation_id: str, *, with_availability: bool = True
    ) -> HandoverStatus:
        with self._reading() as session:
            handover = queue.latest_for(session, conversation_id)
            last = events.after(session, conversation_id, 0)
            last_seq = last[-1].seq if last else 0
            place = queue.position(session, handover) if handover else 0
        available = (
            self.availability()
            if with_availability
            else Availability(reason="open", advisors=0, days=())
        )
        if handover is None:
            return HandoverStatus("none", 0, False, last_seq, available)
        return HandoverStatus(
            state=handover.status,
            position=place,
            advisor_typing=handover.status == ACTIVE
            and self._typing(handover.advisor_typing_at),
            last_seq=last_seq,
            availability=available,
            identity_shared=handover.identity is not None,
        )

    def _entry(self, row: Handover, position: int) -> QueueEntry:
        return QueueEntry(
            id=row.id,
            conversation_id=row.conversation_id,
            status=row.status,
            reason=row.reason,
            topic_title=row.topic_title,
            identity=row.identity,
            requested_at=row.requested_at,
            claimed_at=row.claimed_at,
            advisor_name=row.advisor_name,
            requeued=row.requeued,
            member_typing=row.status in OPEN_STATES
            and self._typing(row.member_typing_at),
            position=position,
        )

    def _open(self, session: Session, conversation_id: str) -> Handover:
        handover = queue.open_for(session, conversation_id)
        if handover is None:
            raise HandoverNotFound(
                "No person has or awaits this conversation.",
                details={"conversation": conversation_id},
            )
        return handover

    @staticmethod
    def _get(session: Session, handover_id: int) -> Handover:
        handover = session.get(Handover, handover_id, populate_existing=True)
        if handover is None:
            raise HandoverNotFound(
                f"No handover {handover_id}.", details={"handover": handover_id}
            )
        return handover

    def _held(self, session: Session, advisor: Advisor, handover_id: int) -> Handover:
        handover = self._get(session, handover_id)
        if handover.status != ACTIVE or handover.claimed_by != advisor.id:
            raise HandoverConflict(
                "The advisor does not hold this conversation.",
                details={"handover": handover_id},
            )
        return handover

    def _earlier_event(self, conversation_id: str, client_id: str | None) -> EventView:
        if client_id is not None:
            with self._reading() as session:
                earlier = events.by_client_id(session, conversation_id, client_id)
                if earlier is not None:
                    return EventView.from_row(earlier)
        raise StorageUnavailable("Could not store the message; try again.")

    def _topic(self, conversation_id: str) -> tuple[str | None, str | None]:
        """The assistant's guess of what the conversation is about."""
        with self._reading() as session:
            intent = session.scalar(
                select(Message.intent)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.intent.is_not(None),
                    Message.intent != self.settings.handover_intent,
                )
                .order_by(Message.seq.desc())
                .limit(1)
            )
        if intent is None:
            return None, None
        runtime = self.models.current
        title = runtime.view.title(intent) if runtime is not None else intent
        return intent, title

    def _reason(self, conversation_id: str) -> str:
        with self._reading() as session:
            conversation = session.get(Conversation, conversation_id)
        state = conversation.state if conversation is not None else {}
        reason = state.get("handover_reason") if isinstance(state, dict) else None
        return reason if reason in REASONS else "asked"

    def _office_contacts(self) -> tuple[str, ...]:
        """The organisation's own phone number and e-mail, never masked."""
        runtime = self.models.current
        if runtime is None:
            return ()
        organisation = runtime.view.kb.organisation
        return tuple(item for item in (organisation.phone, organisation.email) if item)

    def _consent_text(self) -> str:
        runtime = self.models.current
        if runtime is None:
            return ""
        return runtime.view.texts.get("handover_ticket_consent")

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        with _storage_errors(), self.sessions.begin() as session:
            yield session

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with _storage_errors(), self.sessions() as session:
            yield session


@contextmanager
def _storage_errors() -> Iterator[None]:
    try:
        yield
    except OperationalError as error:
        log.error("database unavailable: %s", type(error.orig).__name__)
        raise StorageUnavailable("The database cannot be used right now.") from error


def _shown_identity(identity: MemberIdentity | None) -> dict[str, Any] | None:
    if identity is None:
        return None
    return {"member_id": str(identity.member_id), "name": str(identity.display_name)}


def _touch(session: Session, conversation_id: str, now: datetime) -> None:
    conversation = conversation_repo.get_conversation(session, conversation_id)
    if conversation is not None:
        conversation.last_activity_at = now


def _transcript(session: Session, conversation_id: str) -> list[TranscriptLine]:
    rows = conversation_repo.list_messages(
        session, conversation_id, limit=TRANSCRIPT_LIMIT
    )
    return [
        TranscriptLine(
            seq=row.seq,
            role=row.role,
            text=row.text if row.role == conversation_repo.MEMBER else _plain(row.html),
            outcome=row.outcome,
            intent=row.intent,
        )
        for row in rows
    ]


def _plain(markup: str | None) -> str:
    """The text of a reply's HTML, for the advisor's transcript."""
    # The HTML is the assistant's own, already sanitised; tags become spaces
    # so that list items do not run together.
    text = html.unescape(_TAG.sub(" ", markup or ""))
    return " ".join(text.split())


def offer_html(available: Availability, view: KnowledgeView) -> str:
    """What the member reads when a person is offered, for this availability."""
    if available.live:
        return view.text_html("handover_live")
    parts = [
        view.text_html(_UNAVAILABLE[available.reason], holiday=available.holiday or "")
    ]
    if available.note:
        parts.append(view.text_html("handover_note", note=available.note))
    if available.next_opening is not None:
        parts.append(
            view.text_html(
                "handover_next_opening", when=_when(available.next_opening, view)
            )
        )
    parts.append(view.contact_html)
    parts.append(view.text_html("handover_leave_message"))
    return "\n".join(parts)


_UNAVAILABLE = {
    "busy": "handover_busy",
    "closed": "handover_closed",
    "holiday": "handover_holiday",
    "exception": "handover_closed",
}
_WEEKDAY_KEYS = (
    "weekday_0",
    "weekday_1",
    "weekday_2",
    "weekday_3",
    "weekday_4",
    "weekday_5",
    "weekday_6",
)


def _when(moment: datetime, view: KnowledgeView) -> str:
    weekday = view.texts.get(_WEEKDAY_KEYS[moment.weekday()])
    return f"{weekday} {moment.day}.{moment.month}. kl. {moment:%H:%M}"
