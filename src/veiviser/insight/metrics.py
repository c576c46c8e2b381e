"""The dashboard's figures, read from the daily rollups only.

Reading rollups (a few rows per day) rather than messages keeps every page
fast at millions of messages and lets a year of statistics outlive a 90-day
retention of the conversations themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from veiviser.insight.clock import days_between, month_start, week_start
from veiviser.insight.rollups import DAY_FIELDS, TOPICAL
from veiviser.store.models import KbGroup, KbIntent
from veiviser.store.models_insight import InsightDay, InsightDayHour, InsightDayIntent

GRANULARITIES: dict[str, Callable[[date], date]] = {
    "day": lambda day: day,
    "week": week_start,
    "month": month_start,
}


@dataclass(frozen=True)
class Rates:
    """The period's rates; None where the denominator is zero."""

    answer: float | None
    resolution: float | None
    decline: float | None
    clarify: float | None
    handover: float | None
    feedback: float | None


@dataclass(frozen=True)
class Overview:
    """The period's totals and rates."""

    totals: dict[str, int]
    rates: Rates


@dataclass(frozen=True)
class Ranked:
    """An intent or topic group with its count and share of all topics."""

    key: str
    title: str
    count: int
    share: float


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide by."""
    return part / whole if whole else None


def overview(session: Session, first: date, last: date) -> Overview:
    """Totals of every rollup field and the rates derived from them.

    Definitions (shown next to each rate on the dashboard):
    answer = answered / member messages; decline and clarify likewise;
    resolution = resolved / conversations with a member message;
    handover = conversations with a handover / the same base;
    feedback = thumbs up / all thumbs.
    """
    columns = [
        func.coalesce(func.sum(getattr(InsightDay, name)), 0) for name in DAY_FIELDS
    ]
    row = session.execute(
        select(*columns).where(InsightDay.day >= first, InsightDay.day <= last)
    ).one()
    totals = {name: int(value) for name, value in zip(DAY_FIELDS, row, strict=True)}
    messages, engaged = totals["member_messages"], totals["engaged"]
    rates = Rates(
        answer=ratio(totals["answered"], messages),
        resolution=ratio(totals["resolved"], engaged),
        decline=ratio(totals["declined"], messages),
        clarify=ratio(totals["clarified"], messages),
        handover=ratio(totals["handed_over"], engaged),
        feedback=ratio(
            totals["feedback_up"], totals["feedback_up"] + totals["feedback_down"]
        ),
    )
    return Overview(totals, rates)


def series(
    session: Session, first: date, last: date, granularity: str, fields: tuple[str, ...]
) -> list[tuple[date, dict[str, int]]]:
    """Sums of rollup fields per day, week (Monday) or month, no gaps."""
    bucket = GRANULARITIES[granularity]
    sums: dict[date, Counter[str]] = {}
    for day in days_between(first, last):
        sums.setdefault(bucket(day), Counter())
    columns = [getattr(InsightDay, name) for name in fields]
    for day, *values in session.execute(
        select(InsightDay.day, *columns).where(
            InsightDay.day >= first, InsightDay.day <= last
        )
    ):
        sums[bucket(day)].update(dict(zip(fields, values, strict=True)))
    return [(start, {f: sums[start][f] for f in fields}) for start in sorted(sums)]


def top_intents(
    session: Session, first: date, last: date, limit: int = 10
) -> list[Ranked]:
    """The most asked-about intents with their share of all topical replies."""
    counts = _topic_counts(session, first, last, InsightDayIntent.intent)
    titles = dict(session.execute(select(KbIntent.id, KbIntent.title)).all())
    return _ranked(counts, titles, limit)


def top_groups(
    session: Session, first: date, last: date, limit: int = 10
) -> list[Ranked]:
    """Topic groups by the replies of their intents ('' for intents without one)."""
    counts = _topic_counts(session, first, last, InsightDayIntent.group_id)
    titles = dict(session.execute(select(KbGroup.id, KbGroup.title)).all())
    return _ranked(counts, titles, limit)


def heatmap(session: Session, first: date, last: date) -> list[list[int]]:
    """Member messages per Oslo weekday (rows, Monday first) and hour (columns)."""
    grid = [[0] * 24 for _ in range(7)]
    for weekday, hour, count in session.execute(
        select(
            InsightDayHour.weekday,
            InsightDayHour.hour,
            func.sum(InsightDayHour.member_messages),
        )
        .where(InsightDayHour.day >= first, InsightDayHour.day <= last)
        .group_by(InsightDayHour.weekday, InsightDayHour.hour)
    ):
        grid[weekday][hour] += int(count)
    return grid


def intent_series(
    session: Session, first: date, last: date
) -> tuple[dict[str, dict[date, int]], dict[date, int]]:
    """Topical replies per intent per day, and all member messages per day."""
    per_intent: dict[str, dict[date, int]] = {}
    for day, intent, count in session.execute(
        select(
            InsightDayIntent.day,
            InsightDayIntent.intent,
            func.sum(InsightDayIntent.count),
        )
        .where(
            InsightDayIntent.day >= first,
            InsightDayIntent.day <= last,
            InsightDayIntent.intent != "",
            InsightDayIntent.outcome.in_(TOPICAL),
        )
        .group_by(InsightDayIntent.day, InsightDayIntent.intent)
    ):
        per_intent.setdefault(intent, {})[day] = int(count)
    totals = dict(
        session.execute(
            select(InsightDay.day, InsightDay.member_messages).where(
                InsightDay.day >= first, InsightDay.day <= last
            )
        ).all()
    )
    return per_intent, totals


def _topic_counts(session: Session, first: date, last: date, key) -> Counter[str]:
    rows = session.execute(
        select(key, func.sum(InsightDayIntent.count))
        .where(
            InsightDayIntent.day >= first,
            InsightDayIntent.day <= last,
            InsightDayIntent.intent != "",
            InsightDayIntent.outcome.in_(TOPICAL),
        )
        .group_by(key)
    )
    return Counter({name: int(count) for name, count in rows})


def _ranked(counts: Counter[str], titles: dict[str, str], limit: int) -> list[Ranked]:
    total = sum(counts.values())
    return [
        Ranked(key, titles.get(key, key), count, count / total)
        for key, count in counts.most_common(limit)
    ]
