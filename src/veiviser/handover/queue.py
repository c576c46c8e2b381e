"""The advisor queue: handover rows and the changes of their state.

Every change that two processes could race for is one conditional UPDATE
whose row count says who won, so it holds across server processes on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from veiviser.store.models_handover import (
    ACTIVE,
    OPEN_STATES,
    QUEUED,
    Handover,
)


def lock(session: Session, handover_id: int) -> None:
    """Take the handover's row lock as the transaction's first write.

    PostgreSQL locks the row; SQLite takes its database write lock. Either
    way, what this transaction reads next (the last event number) cannot
    change under it.
    """
    session.execute(
        update(Handover)
        .where(Handover.id == handover_id)
        .values(status=Handover.status)
        .execution_options(synchronize_session=False)
    )


def open_for(session: Session, conversation_id: str) -> Handover | None:
    """The conversation's queued or active handover, if any."""
    return session.scalar(
        select(Handover).where(
            Handover.conversation_id == conversation_id,
            Handover.status.in_(OPEN_STATES),
        )
    )


def latest_for(session: Session, conversation_id: str) -> Handover | None:
    """The conversation's newest handover, open or not."""
    return session.scalar(
        select(Handover)
        .where(Handover.conversation_id == conversation_id)
        .order_by(Handover.id.desc())
        .limit(1)
    )


def enqueue(
    session: Session,
    conversation_id: str,
    *,
    reason: str,
    topic: str | None,
    topic_title: str | None,
    identity: dict[str, Any] | None,
    now: datetime,
) -> Handover:
    """Put a conversation in the queue. The caller commits.

    A second open handover for the same conversation violates the unique
    index ``uq_handover_open``; the caller treats that as "already queued".
    """
    row = Handover(
        conversation_id=conversation_id,
        status=QUEUED,
        reason=reason,
        topic=topic,
        topic_title=topic_title,
        identity=identity,
        requested_at=now,
        requeued=0,
    )
    session.add(row)
    session.flush()
    return row


def position(session: Session, handover: Handover) -> int:
    """1 for the first in the queue; 0 when the handover is not queued."""
    if handover.status != QUEUED:
        return 0
    ahead = session.scalar(
        select(func.count()).where(
            Handover.status == QUEUED,
            (Handover.requested_at < handover.requested_at)
            | (
                (Handover.requested_at == handover.requested_at)
                & (Handover.id < handover.id)
            ),
        )
    )
    return int(ahead or 0) + 1


def queued(session: Session, limit: int = 200) -> list[Handover]:
    """Queued handovers, the longest waiting first."""
    query = (
        select(Handover)
        .where(Handover.status == QUEUED)
        .order_by(Handover.requested_at, Handover.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def active_for(session: Session, advisor_id: int) -> list[Handover]:
    """The conversations an advisor has now."""
    query = (
        select(Handover)
        .where(Handover.status == ACTIVE, Handover.claimed_by == advisor_id)
        .order_by(Handover.claimed_at)
    )
    return list(session.scalars(query))


def claim(
    session: Session, handover_id: int, advisor_id: int, name: str, now: datetime
) -> bool:
    """Give a queued handover to an advisor; False if someone was first."""
    result = session.execute(
        update(Handover)
        .where(
            Handover.id == handover_id,
            Handover.status == QUEUED,
            Handover.claimed_by.is_(None),
        )
        .values(
            status=ACTIVE,
            claimed_by=advisor_id,
            advisor_name=name,
            claimed_at=now,
            first_claimed_at=func.coalesce(Handover.first_claimed_at, now),
            advisor_heartbeat_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def finish(
    session: Session,
    handover_id: int,
    status: str,
    ended_by: str,
    now: datetime,
    advisor_id: int | None = None,
) -> bool:
    """End an open handover; with ``advisor_id``, only if that advisor has it."""
    conditions = [Handover.id == handover_id, Handover.status.in_(OPEN_STATES)]
    if advisor_id is not None:
        conditions += [Handover.status == ACTIVE, Handover.claimed_by == advisor_id]
    result = session.execute(
        update(Handover)
        .where(*conditions)
        .values(status=status, ended_by=ended_by, ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def requeue(session: Session, handover_id: int, stale_before: datetime) -> bool:
    """Return a claimed handover whose advisor went quiet to the queue."""
    result = session.execute(
        update(Handover)
        .where(
            Handover.id == handover_id,
            Handover.status == ACTIVE,
            Handover.advisor_heartbeat_at < stale_before,
        )
        .values(
            status=QUEUED,
            claimed_by=None,
            advisor_name=None,
            claimed_at=None,
            advisor_typing_at=None,
            requeued=Handover.requeued + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def stale(session: Session, stale_before: datetime) -> list[int]:
    """Ids of claimed handovers whose advisor has not been heard from."""
    query = select(Handover.id).where(
        Handover.status == ACTIVE, Handover.advisor_heartbeat_at < stale_before
    )
    return list(session.scalars(query))


def advisor_beat(
    session: Session, handover_id: int, advisor_id: int, now: datetime
) -> bool:
    """Record that the advisor's browser still shows this conversation."""
    result = session.execute(
        update(Handover)
        .where(
            Handover.id == handover_id,
            Handover.status == ACTIVE,
            Handover.claimed_by == advisor_id,
        )
        .values(advisor_heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
