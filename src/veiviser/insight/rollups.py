"""Daily rollups: the counts the dashboard and trends read, per Oslo day.

A day's rollup is recomputed from the raw rows (idempotent: delete the day's
rows, insert them again, in one transaction) until the day is *final*,
``SETTLE`` after it ended. Final days are never recomputed by the refresh,
so they survive the purge of the conversations they were computed from.

Several processes may refresh at once: each day is claimed by inserting its
row if missing and then locking it (PostgreSQL row lock; SQLite's write lock
is taken by the insert), and a day computed moments ago is skipped.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from veiviser.insight.clock import day_bounds, days_between, oslo_day, oslo_hour
from veiviser.store.models import Conversation, Feedback, KbIntent, Message
from veiviser.store.models_insight import InsightDay, InsightDayHour, InsightDayIntent

log = logging.getLogger(__name__)

# A day is final this long after it ended: later messages belong to later
# days, and conversations started that day have had time to finish.
# Limitation: a conversation resumed more than two days after it started
# does not change its start day's resolution or handover figures; tracking
# "dirty" conversation days on each turn would retire this.
SETTLE = timedelta(days=2)
# A day recomputed less than this long ago is fresh enough for a dashboard.
FRESH = timedelta(seconds=60)
NEVER = datetime(1970, 1, 1, tzinfo=UTC)
ANSWERED = frozenset({"answer", "multi"})
# Outcomes whose intent is the topic the member asked about.
TOPICAL = frozenset({"answer", "multi", "handover"})
_IN_CHUNK = 500


@dataclass
class DayCounts:
    """Everything one day's rollup holds, before it is stored."""

    totals: Counter[str] = field(default_factory=Counter)
    intents: Counter[tuple[str, str]] = field(default_factory=Counter)
    hours: Counter[int] = field(default_factory=Counter)


def recompute_day(
    session: Session, day: date, now: datetime, *, force: bool = False
) -> bool:
    """Recompute one Oslo day's rollup from the raw rows. The caller commits.

    Args:
        session: a session inside a transaction.
        day: the Oslo day.
        now: the current time (decides whether the day becomes final).
        force: recompute even a final or fresh day (after a simulation or
            an import of old traffic; never after a purge of that day).

    Returns:
        True if the day was recomputed, False if it was final or fresh.
    """
    row = _claim_day(session, day)
    if not force and (row.final or row.computed_at > now - FRESH):
        return False

    counts = count_day(session, day)
    _store_day(session, row, counts, now)
    log.debug("rollup of %s: %s", day, dict(counts.totals))
    return True


def refresh(
    sessions: sessionmaker[Session], now: datetime, retention_days: int
) -> list[date]:
    """Recompute every day that is not yet final, oldest first.

    Days older than the retention are left alone: their raw rows may be gone.

    Returns:
        The days recomputed.
    """
    with sessions() as session:
        due = days_due(session, now, retention_days)
    done = []
    for day in due:
        with sessions.begin() as session:
            if recompute_day(session, day, now):
                done.append(day)
    if done:
        log.info("rollups refreshed: %d day(s), %s to %s", len(done), done[0], done[-1])
    return done


def days_due(session: Session, now: datetime, retention_days: int) -> list[date]:
    """Days between the first stored message and today that are not final."""
    today = oslo_day(now)
    oldest = today - timedelta(days=max(retention_days, 1))
    first_stored = session.scalar(
        select(func.min(Message.created_at)).where(
            Message.created_at >= day_bounds(oldest)[0]
        )
    )
    if first_stored is None:
        return []
    first = max(oslo_day(_aware(first_stored)), oldest)
    done = set(
        session.scalars(
            select(InsightDay.day).where(
                InsightDay.day >= first,
                (InsightDay.final.is_(True)) | (InsightDay.computed_at > now - FRESH),
            )
        )
    )
    return [day for day in days_between(first, today) if day not in done]


def never_computed(session: Session, days: list[date]) -> list[date]:
    """Those of ``days`` that have no rollup at all yet."""
    if not days:
        return []
    known = set(session.scalars(select(InsightDay.day).where(InsightDay.day.in_(days))))
    return [day for day in days if day not in known]


def count_day(session: Session, day: date) -> DayCounts:
    """The rollup counts of one Oslo day, read from the raw rows."""
    start, end = day_bounds(day)
    counts = DayCounts()
    _count_messages(session, start, end, counts)
    _count_conversations(session, start, end, counts)
    for rating, number in session.execute(
        select(Feedback.rating, func.count())
        .where(Feedback.created_at >= start, Feedback.created_at < end)
        .group_by(Feedback.rating)
    ):
        counts.totals[f"feedback_{rating}"] += number
    return counts


def is_resolved(outcomes: Sequence[str], negative_feedback: bool) -> bool:
    """Whether a conversation's replies, in order, count as resolved.

    Resolved: no handover, no negative feedback, and no decline left without
    a later answer.
    """
    if negative_feedback or "handover" in outcomes:
        return False
    open_decline = False
    for outcome in outcomes:
        if outcome == "fallback":
            open_decline = True
        elif outcome in ANSWERED:
            open_decline = False
    return not open_decline


def reply_topics(outcome: str, intent: str | None, intents: Iterable[str]) -> list[str]:
    """The intents a reply counts for ('' when it names no topic)."""
    if outcome == "multi":
        return list(intents) or [""]
    if outcome in TOPICAL and intent:
        return [intent]
    return [""]


def _count_messages(
    session: Session, start: datetime, end: datetime, counts: DayCounts
) -> None:
    rows = session.execute(
        select(
            Message.id,
            Message.role,
            Message.outcome,
            Message.intent,
            Message.created_at,
        ).where(Message.created_at >= start, Message.created_at < end)
    ).all()
    # Only a multi reply names two intents; decoding JSON for every row
    # would cost more than the rest of the day's count.
    multi_ids = [row[0] for row in rows if row[2] == "multi"]
    both = (
        dict(
            session.execute(
                select(Message.id, Message.intents).where(Message.id.in_(multi_ids))
            ).all()
        )
        if multi_ids
        else {}
    )
    totals = counts.totals
    for message_id, role, outcome, intent, created_at in rows:
        intents = both.get(message_id)
        if role == "member":
            totals["member_messages"] += 1
            counts.hours[oslo_hour(_aware(created_at))] += 1
            continue
        if outcome is None or outcome == "greeting":
            continue
        totals["answered"] += outcome in ANSWERED
        totals["clarified"] += outcome == "clarify"
        totals["declined"] += outcome == "fallback"
        totals["handovers"] += outcome == "handover"
        for topic in reply_topics(outcome, intent, intents or ()):
            counts.intents[(topic, outcome)] += 1


def _count_conversations(
    session: Session, start: datetime, end: datetime, counts: DayCounts
) -> None:
    started = (
        select(Conversation.id)
        .where(Conversation.created_at >= start, Conversation.created_at < end)
        .scalar_subquery()
    )
    visitors = list(
        session.execute(
            select(Conversation.id, Conversation.visitor_hash).where(
                Conversation.created_at >= start, Conversation.created_at < end
            )
        )
    )
    counts.totals["conversations"] = len(visitors)
    turns: dict[str, list[str]] = {}
    engaged: set[str] = set()
    for conversation_id, role, outcome in session.execute(
        select(Message.conversation_id, Message.role, Message.outcome)
        .where(Message.conversation_id.in_(started))
        .order_by(Message.conversation_id, Message.seq)
    ):
        if role == "member":
            engaged.add(conversation_id)
        elif outcome and outcome != "greeting":
            turns.setdefault(conversation_id, []).append(outcome)
    down = set(
        session.scalars(
            select(Message.conversation_id)
            .join(Feedback, Feedback.message_id == Message.id)
            .where(Message.conversation_id.in_(started), Feedback.rating == "down")
        )
    )
    for conversation_id in engaged:
        outcomes = turns.get(conversation_id, [])
        counts.totals["engaged"] += 1
        counts.totals["handed_over"] += "handover" in outcomes
        counts.totals["resolved"] += is_resolved(outcomes, conversation_id in down)
    _count_visitors(session, start, {h for _, h in visitors if h}, counts)


def _count_visitors(
    session: Session, start: datetime, hashes: set[str], counts: DayCounts
) -> None:
    # A visitor is new on the day of their first stored conversation; the
    # history reaches back as far as the retention keeps conversations.
    ordered = sorted(hashes)
    for offset in range(0, len(ordered), _IN_CHUNK):
        chunk = ordered[offset : offset + _IN_CHUNK]
        for _, first in session.execute(
            select(Conversation.visitor_hash, func.min(Conversation.created_at))
            .where(Conversation.visitor_hash.in_(chunk))
            .group_by(Conversation.visitor_hash)
        ):
            key = "new_visitors" if _aware(first) >= start else "returning_visitors"
            counts.totals[key] += 1


def _claim_day(session: Session, day: date) -> InsightDay:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else None
    statement = (insert or sqlite_insert)(InsightDay).values(
        day=day, computed_at=NEVER, final=False
    )
    session.execute(statement.on_conflict_do_nothing(index_elements=["day"]))
    row = session.get(InsightDay, day, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


def _store_day(
    session: Session, row: InsightDay, counts: DayCounts, now: datetime
) -> None:
    day = row.day
    groups = dict(session.execute(select(KbIntent.id, KbIntent.group_id)).all())
    session.execute(delete(InsightDayIntent).where(InsightDayIntent.day == day))
    session.execute(delete(InsightDayHour).where(InsightDayHour.day == day))
    session.add_all(
        InsightDayIntent(
            day=day,
            intent=intent,
            outcome=outcome,
            group_id=groups.get(intent) or "",
            count=number,
        )
        for (intent, outcome), number in counts.intents.items()
    )
    session.add_all(
        InsightDayHour(
            day=day, hour=hour, weekday=day.weekday(), member_messages=number
        )
        for hour, number in counts.hours.items()
    )
    for name in DAY_FIELDS:
        setattr(row, name, counts.totals.get(name, 0))
    row.computed_at = now
    row.final = now >= day_bounds(day)[1] + SETTLE
    session.flush()


def _aware(moment: datetime) -> datetime:
    # Raw SQL aggregates (min) bypass the UTC type on SQLite.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


DAY_FIELDS = (
    "conversations",
    "engaged",
    "resolved",
    "handed_over",
    "member_messages",
    "answered",
    "clarified",
    "declined",
    "handovers",
    "feedback_up",
    "feedback_down",
    "new_visitors",
    "returning_visitors",
)
