"""Oslo calendar days and hours, correct across daylight-saving changes.

Timestamps are stored in UTC. A day is the half-open UTC interval between two
Oslo midnights, so the spring day has 23 hours and the autumn day 25, and
every instant belongs to exactly one day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


def oslo_day(moment: datetime) -> date:
    """The Oslo calendar day of an aware timestamp."""
    return moment.astimezone(OSLO).date()


def oslo_hour(moment: datetime) -> int:
    """The Oslo wall-clock hour (0-23) of an aware timestamp.

    In the autumn the hour 02 happens twice; both fall in hour 2.
    """
    return moment.astimezone(OSLO).hour


def day_start(day: date) -> datetime:
    """The UTC instant of Oslo midnight starting ``day``."""
    return datetime.combine(day, time(0), tzinfo=OSLO).astimezone(UTC)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC interval ``[start, end)`` of one Oslo day."""
    return day_start(day), day_start(day + timedelta(days=1))


def days_between(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def week_start(day: date) -> date:
    """The Monday of the ISO week holding ``day``."""
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    """The first day of the month holding ``day``."""
    return day.replace(day=1)
