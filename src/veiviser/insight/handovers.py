"""Handover figures for the dashboard: how often a person was asked for, how
long members waited, and how many left a message instead.

Read from the ``handover`` and ``handover_ticket`` rows of the period, per
Oslo day of the request, bucketed like every other series. A waiting time is
from the request to the first advisor taking the chat (a chat returned to
the queue keeps its first wait); the 90th percentile is the nearest-rank one
(the smallest wait that at least 90 % of the waits do not exceed).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from statistics import median

from sqlalchemy import DateTime, select, type_coerce
from sqlalchemy.orm import Session

from veiviser.insight.clock import day_bounds, days_between
from veiviser.insight.metrics import GRANULARITIES
from veiviser.store.models_handover import OPEN_STATES, Handover, HandoverTicket

# Limitation: handover rows go with their conversation under the retention,
# so these figures cover only the retention period (90 days by default),
# unlike the rollups. Waits and counts as columns of the daily rollup (a
# schema change) would let them outlive the purge like the other figures.


@dataclass(frozen=True)
class HandoverBucket:
    """Handovers requested in one day, week or month.

    ``requested`` live chats asked for; ``taken`` by an advisor; ``left``
    ended by the member (or never taken) before anyone took them; ``waiting``
    still in the queue; ``tickets`` messages left because nobody could take
    the chat. Waits are in minutes, None when nobody was taken.
    """

    start: date
    requested: int
    taken: int
    left: int
    waiting: int
    tickets: int
    median_wait: float | None
    p90_wait: float | None


@dataclass
class _Tally:
    requested: int = 0
    taken: int = 0
    left: int = 0
    waiting: int = 0
    tickets: int = 0
    waits: list[float] = field(default_factory=list)

    def add(self, other: _Tally) -> None:
        self.requested += other.requested
        self.taken += other.taken
        self.left += other.left
        self.waiting += other.waiting
        self.tickets += other.tickets
        self.waits.extend(other.waits)


def handover_series(
    session: Session, first: date, last: date, granularity: str
) -> list[HandoverBucket]:
    """Handover counts and waiting times per bucket, no gaps, oldest first."""
    return handover_figures(session, first, last, granularity)[0]


def handover_totals(session: Session, first: date, last: date) -> HandoverBucket:
    """The whole period as one bucket (its median is over every wait)."""
    return handover_figures(session, first, last, "day")[1]


def handover_figures(
    session: Session, first: date, last: date, granularity: str
) -> tuple[list[HandoverBucket], HandoverBucket]:
    """The series and the period's totals, from one read of the rows."""
    days = days_between(first, last)
    starts = [day_bounds(day)[0].replace(tzinfo=None) for day in days]
    end = day_bounds(last)[1].replace(tzinfo=None)
    bucket = GRANULARITIES[granularity]
    per_day = [_Tally() for _ in days]

    def day_of(moment: datetime) -> _Tally:
        # Oslo days as sorted UTC starts: a bisection instead of a time-zone
        # conversion per row (tens of thousands of rows in a year).
        return per_day[bisect_right(starts, moment) - 1]

    # Core rows (session.connection()): the ORM's row loading would cost
    # more than the counting itself.
    connection = session.connection()
    for requested_at, claimed_at, status in connection.execute(
        select(
            type_coerce(Handover.requested_at, DateTime()),
            type_coerce(Handover.first_claimed_at, DateTime()),
            Handover.status,
        ).where(
            Handover.requested_at >= day_bounds(first)[0],
            Handover.requested_at < day_bounds(last)[1],
        )
    ):
        requested = _naive_utc(requested_at)
        if not starts[0] <= requested < end:
            continue
        tally = day_of(requested)
        tally.requested += 1
        if claimed_at is not None:
            tally.taken += 1
            wait = (_naive_utc(claimed_at) - requested).total_seconds()
            tally.waits.append(max(wait, 0.0) / 60)
        elif status in OPEN_STATES:
            tally.waiting += 1
        else:
            tally.left += 1
    for (created_at,) in connection.execute(
        select(type_coerce(HandoverTicket.created_at, DateTime())).where(
            HandoverTicket.created_at >= day_bounds(first)[0],
            HandoverTicket.created_at < day_bounds(last)[1],
        )
    ):
        created = _naive_utc(created_at)
        if starts[0] <= created < end:
            day_of(created).tickets += 1

    buckets: dict[date, _Tally] = {}
    for day, tally in zip(days, per_day, strict=True):
        buckets.setdefault(bucket(day), _Tally()).add(tally)
    total = _Tally()
    for tally in per_day:
        total.add(tally)
    series = [_bucket(start, tallies) for start, tallies in sorted(buckets.items())]
    return series, _bucket(first, total)


def nearest_rank(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of ``values`` (``share`` in (0, 1])."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]


def _bucket(start: date, tally: _Tally) -> HandoverBucket:
    waits = tally.waits
    return HandoverBucket(
        start=start,
        requested=tally.requested,
        taken=tally.taken,
        left=tally.left,
        waiting=tally.waiting,
        tickets=tally.tickets,
        median_wait=round(median(waits), 1) if waits else None,
        p90_wait=_rounded(nearest_rank(waits, 0.9)),
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _naive_utc(moment: datetime) -> datetime:
    # Read without the UTC column type (its conversion per row was most of
    # the cost): SQLite gives naive UTC, PostgreSQL an aware timestamp.
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
