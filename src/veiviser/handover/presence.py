"""Advisors' availability, kept alive by heartbeats from their browsers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from veiviser.store.models_handover import AdvisorPresence


def set_available(
    session: Session, advisor_id: int, name: str, available: bool, now: datetime
) -> AdvisorPresence:
    """Mark an advisor available or away. The caller commits."""
    row = session.get(AdvisorPresence, advisor_id)
    if row is None:
        row = AdvisorPresence(advisor_id=advisor_id, advisor_name=name)
        session.add(row)
    row.advisor_name = name
    row.available = available
    row.heartbeat_at = now
    session.flush()
    return row


def beat(session: Session, advisor_id: int, now: datetime) -> None:
    """Record that an advisor's browser is still there."""
    row = session.get(AdvisorPresence, advisor_id)
    if row is not None:
        row.heartbeat_at = now
        session.flush()


def is_available(session: Session, advisor_id: int, since: datetime) -> bool:
    """True if the advisor is marked available and was heard from since ``since``."""
    row = session.get(AdvisorPresence, advisor_id)
    return row is not None and row.available and row.heartbeat_at >= since


def available_count(session: Session, since: datetime) -> int:
    """Advisors marked available whose browser was heard from since ``since``."""
    query = select(func.count()).where(
        AdvisorPresence.available.is_(True), AdvisorPresence.heartbeat_at >= since
    )
    return int(session.scalar(query) or 0)
