"""Marking what is new in the queue since a staff member's last visit.

A visit is a run of page views with less than ``VISIT_GAP`` between them;
during a visit, items newer than the end of the previous visit stay marked
new, so reloading the page does not clear the marks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from veiviser.store.models_trainer import ReviewVisit

VISIT_GAP = timedelta(minutes=30)


def visit(session: Session, user_id: int, now: datetime) -> datetime | None:
    """Record a page view; return the moment after which items are new.

    None on a staff member's first visit: then nothing is marked, as
    everything would be.
    """
    row = session.get(ReviewVisit, user_id, with_for_update=True)
    if row is None:
        session.add(ReviewVisit(user_id=user_id, new_after=now, last_seen_at=now))
        return None
    if now - row.last_seen_at > VISIT_GAP:
        row.new_after = row.last_seen_at
    row.last_seen_at = now
    return row.new_after
