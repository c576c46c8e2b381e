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
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from veiviser.insight.clock import day_bounds, days_between, oslo_day
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


def handover_series(
    session: Session, first: date, last: date, granularity: str
) -> list[HandoverBucket]:
    """Handover counts and waiting times per bucket, no gaps, oldest first."""
    tallies = _tally(session, first, last, GRANULARITIES[granularity])
    return [_bucket(day, tallies[day]) for day in sorted(tallies)]


def handover_totals(session: Session, first: date, last: date) -> HandoverBucket:
    """The whole period as one bucket (its median is over every wait)."""
    return _bucket(first, _tally(session, first, last, lambda _day: first)[first])


def _tally(
    session: Session, first: date, last: date, bucket: Callable[[date], date]
) -> dict[date, _Tally]:
    tallies: dict[date, _Tally] = defaultdict(_Tally)
    for day in days_between(first, last):
        tallies[bucket(day)]  # every bucket shows, empty ones too
    start, end = day_bounds(first)[0], day_bounds(last)[1]
    rows = session.execute(
        select(Handover.requested_at, Handover.first_claimed_at, Handover.status)
        .where(Handover.requested_at >= start, Handover.requested_at < end)
        .order_by(Handover.requested_at)
    )
    for requested_at, claimed_at, status in rows:
        tally = tallies[bucket(oslo_day(_aware(requested_at)))]
        tally.requested += 1
        if claimed_at is not None:
            tally.taken += 1
            wait = _aware(claimed_at) - _aware(requested_at)
            tally.waits.append(max(wait.total_seconds(), 0.0) / 60)
        elif status in OPEN_STATES:
            tally.waiting += 1
        else:
            tally.left += 1
    for (created_at,) in session.execute(
        select(HandoverTicket.created_at).where(
            HandoverTicket.created_at >= start, HandoverTicket.created_at < end
        )
    ):
        tallies[bucket(oslo_day(_aware(created_at)))].tickets += 1
    return tallies


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


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive UTC timestamps.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
