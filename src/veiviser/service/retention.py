"""Retention: conversations idle longer than the retention period are deleted.

A conversation whose last activity is older than ``VEIVISER_RETENTION_DAYS``
goes with its messages, feedback and everything else stored under it
(handover rows, personal-reply markers: their foreign keys cascade). Before
anything is deleted, the daily statistics of the days concerned are brought
up to date (``veiviser.insight.rollups``), so the dashboard keeps its counts
after the raw rows are gone.

The purge is one line of the erasure log (counts only).
``veiviser purge`` runs it once; ``veiviser serve`` runs it once a day in a
background thread. Several processes may purge at once: each batch deletes
rows that still exist, so a second purger finds less to do, not an error.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from veiviser.errors import InvalidInput
from veiviser.insight import rollups
from veiviser.review.erasure import Erased, record_erasure
from veiviser.store.models import Conversation, Feedback, Message, utc_now

log = logging.getLogger(__name__)

# Conversations deleted per transaction: short transactions keep the write
# lock (SQLite) and row locks (PostgreSQL) brief for members chatting now.
BATCH = 500
DAY = timedelta(days=1)


@dataclass(frozen=True)
class PurgeResult:
    """What one purge deleted, and the cut-off it used."""

    cutoff: datetime
    conversations: int
    messages: int


def cutoff_for(now: datetime, retention_days: int) -> datetime:
    """The moment before which a conversation's last activity makes it expire.

    Raises:
        InvalidInput: ``retention_days`` is below one.
    """
    if retention_days < 1:
        raise InvalidInput(
            f"Retention must be at least 1 day, got {retention_days}.",
            details={"retention_days": retention_days},
        )
    return now - timedelta(days=retention_days)


def count_expired(sessions: sessionmaker[Session], cutoff: datetime) -> int:
    """How many conversations a purge with this cut-off would delete."""
    with sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Conversation)
                .where(Conversation.last_activity_at < cutoff)
            )
            or 0
        )


def purge(
    sessions: sessionmaker[Session],
    retention_days: int,
    now: datetime | None = None,
) -> PurgeResult:
    """Delete every conversation idle for longer than the retention.

    Args:
        sessions: database sessions.
        retention_days: the retention period in days (at least 1).
        now: the current time; defaults to now (tests pass a clock).

    Raises:
        InvalidInput: ``retention_days`` is below one.
    """
    now = now or utc_now()
    cutoff = cutoff_for(now, retention_days)
    _settle_statistics(sessions, cutoff, now, retention_days)
    conversations = messages = 0
    while True:
        with sessions.begin() as session:
            deleted, gone_messages = _delete_batch(session, cutoff)
        conversations += deleted
        messages += gone_messages
        if deleted < BATCH:
            break
    if conversations:
        # Every erasure is in the erasure log, a purge too: one line with its
        # totals, never what the conversations held.
        with sessions.begin() as session:
            record_erasure(session, "purge", None, Erased(conversations, messages, 0))
        log.info(
            "retention: %d conversation(s) and %d message(s) idle since before "
            "%s deleted",
            conversations,
            messages,
            cutoff.date().isoformat(),
        )
    return PurgeResult(cutoff, conversations, messages)


def _settle_statistics(
    sessions: sessionmaker[Session],
    cutoff: datetime,
    now: datetime,
    retention_days: int,
) -> None:
    """Bring the daily rollups up to date for every day a purge touches."""
    with sessions() as session:
        oldest = session.scalar(
            select(func.min(Message.created_at))
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.last_activity_at < cutoff)
        )
    if oldest is None:
        return
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    span = max(retention_days, (now - oldest) // DAY + 2)
    rollups.refresh(sessions, now, span)


def _delete_batch(session: Session, cutoff: datetime) -> tuple[int, int]:
    ids = _lock_expired(session, cutoff)
    if not ids:
        return 0, 0
    # Explicit deletes, child rows first: they must not depend on SQLite's
    # foreign keys being switched on; rows further down cascade.
    message_ids = select(Message.id).where(Message.conversation_id.in_(ids))
    session.execute(delete(Feedback).where(Feedback.message_id.in_(message_ids)))
    gone = session.execute(delete(Message).where(Message.conversation_id.in_(ids)))
    session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
    return len(ids), gone.rowcount  # type: ignore[attr-defined]


def _lock_expired(session: Session, cutoff: datetime) -> list[str]:
    """Ids of one batch of expired conversations, locked against new turns.

    A turn arriving meanwhile waits for the lock and then finds the
    conversation gone; a conversation in a turn right now is skipped
    (PostgreSQL) or was touched by it and is no longer expired (SQLite).
    """
    expired = (
        select(Conversation.id)
        .where(Conversation.last_activity_at < cutoff)
        .order_by(Conversation.id)
        .limit(BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(expired.with_for_update(skip_locked=True)))
    # SQLite: a write as the first statement takes the database's write lock
    # before the batch is chosen, as a turn does (service/chat.py).
    session.execute(
        update(Conversation)
        .where(Conversation.id.in_(expired.scalar_subquery()))
        .values(state=Conversation.state)
    )
    return list(session.scalars(expired))


class RetentionJob:
    """Purges once a day in a daemon thread of a server process.

    The first run comes a few minutes after start, at a random offset, so
    processes started together do not all purge at the same moment. With
    another ``run`` (and ``label`` for the thread and the log) it runs any
    daily job, such as the trend alerts.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        retention_days: int,
        every: timedelta = DAY,
        first_after: timedelta | None = None,
        run: Callable[[], object] | None = None,
        label: str = "retention",
    ) -> None:
        self.sessions = sessions
        self.retention_days = retention_days
        self.every = every
        self.first_after = first_after or timedelta(seconds=random.uniform(60, 600))
        self._run_once = run or (lambda: purge(self.sessions, self.retention_days))
        self.label = label
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the daily purge in the background."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._loop, name=f"veiviser-{self.label}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop and wait for a purge in progress to end its batch."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        wait = self.first_after
        while not self._stop.wait(wait.total_seconds()):
            try:
                self._run_once()
            except Exception:
                # A database hiccup must not end the job; tomorrow tries again.
                log.exception("daily %s job failed", self.label)
            wait = self.every
