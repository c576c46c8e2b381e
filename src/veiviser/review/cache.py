"""Computed clusters, kept in the database for every server process.

A set of queue items has one key (its message ids, the vector kind and the
threshold). The first process that needs it claims the key by inserting a
``pending`` row, computes, and stores the result as ``ready``; the others
show the newest ready result meanwhile. A claim older than ``STALE`` is
taken over, so a process that died while computing blocks nobody.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from veiviser.store.models import utc_now
from veiviser.store.models_trainer import ReviewClusters

STALE = timedelta(minutes=5)
# Ready results kept; older ones are deleted when a new one is stored.
KEEP = 10
PENDING = "pending"
READY = "ready"


def cache_key(message_ids: Sequence[int], kind: str, threshold: float) -> str:
    """The key of one set of items clustered one way."""
    joined = ",".join(str(i) for i in sorted(message_ids))
    return hashlib.sha256(f"{kind}:{threshold:.4f}:{joined}".encode()).hexdigest()


def ready_clusters(session: Session, key: str) -> list[list[int]] | None:
    """The stored clusters for ``key`` (lists of message ids), if ready."""
    row = session.get(ReviewClusters, key)
    if row is None or row.status != READY:
        return None
    return [list(cluster) for cluster in row.clusters]


def newest_ready(session: Session) -> ReviewClusters | None:
    """The most recently computed result, for showing while a new one runs."""
    return session.scalar(
        select(ReviewClusters)
        .where(ReviewClusters.status == READY)
        .order_by(ReviewClusters.computed_at.desc())
        .limit(1)
    )


def claim(
    sessions: sessionmaker[Session],
    key: str,
    items: int,
    kind: str,
    now: datetime | None = None,
) -> bool:
    """Take the right to compute ``key``; False if another process has it."""
    now = now or utc_now()
    try:
        with sessions.begin() as session:
            session.add(
                ReviewClusters(
                    key=key,
                    status=PENDING,
                    items=items,
                    vectors=kind,
                    clusters=[],
                    started_at=now,
                    computed_at=now,
                )
            )
        return True
    except IntegrityError:
        pass
    with sessions.begin() as session:
        taken = session.execute(
            update(ReviewClusters)
            .where(
                ReviewClusters.key == key,
                ReviewClusters.status == PENDING,
                ReviewClusters.started_at < now - STALE,
            )
            .values(started_at=now)
        )
        return bool(taken.rowcount)  # type: ignore[attr-defined]


def store(
    sessions: sessionmaker[Session],
    key: str,
    clusters: list[list[int]],
    now: datetime | None = None,
) -> None:
    """Store a computed result and forget all but the newest few."""
    now = now or utc_now()
    with sessions.begin() as session:
        session.execute(
            update(ReviewClusters)
            .where(ReviewClusters.key == key)
            .values(status=READY, clusters=clusters, computed_at=now)
        )
        old = (
            select(ReviewClusters.key)
            .where(ReviewClusters.status == READY)
            .order_by(ReviewClusters.computed_at.desc())
            .offset(KEEP)
        )
        stale = now - STALE
        session.execute(
            delete(ReviewClusters).where(
                ReviewClusters.key.in_(list(session.scalars(old)))
                | (
                    (ReviewClusters.status == PENDING)
                    & (ReviewClusters.started_at < stale)
                )
            )
        )


def release(sessions: sessionmaker[Session], key: str) -> None:
    """Give up a claim (the computation failed), so another may try."""
    with sessions.begin() as session:
        session.execute(
            delete(ReviewClusters).where(
                ReviewClusters.key == key, ReviewClusters.status == PENDING
            )
        )
