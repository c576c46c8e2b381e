"""Opening hours: a weekly schedule, dated exceptions and public holidays.

Everything is decided in the organisation's local time (Europe/Oslo by
default), so summer time and midnight fall where staff expect them. A dated
exception wins over a holiday, and a holiday wins over the week: an office
may open on a holiday it chose to staff.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import holidays

from veiviser.handover.errors import InvalidOpeningHours

Reason = Literal["open", "closed", "holiday", "exception"]
_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$", re.ASCII)
# How far ahead the next opening is looked for.
LOOKAHEAD_DAYS = 21
WEEKDAYS = range(7)


def parse_clock(value: str) -> time:
    """A local time from "HH:MM" (or "HH.MM", as Norwegians often write).

    Raises:
        InvalidOpeningHours: the value is not a time of day.
    """
    match = _CLOCK.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise InvalidOpeningHours(
            f"Opening time {value!r} is not HH:MM.", details={"value": str(value)[:20]}
        )
    return time(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True)
class Interval:
    """Open from ``opens`` until ``closes`` on one day (local time)."""

    opens: time
    closes: time

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise InvalidOpeningHours(
                f"Closing time {self.closes:%H:%M} is not after {self.opens:%H:%M}.",
                details={
                    "opens": f"{self.opens:%H:%M}",
                    "closes": f"{self.closes:%H:%M}",
                },
            )

    @classmethod
    def parse(cls, opens: str, closes: str) -> Interval:
        """An interval from two "HH:MM" texts."""
        return cls(parse_clock(opens), parse_clock(closes))

    def label(self) -> str:
        """The interval as staff and members write it: 09:00–15:00."""
        return f"{self.opens:%H:%M}–{self.closes:%H:%M}"


@dataclass(frozen=True)
class DayException:
    """One date with other hours: closed, or open on special intervals."""

    day: date
    intervals: tuple[Interval, ...] = ()
    note: str = ""

    @property
    def closed(self) -> bool:
        return not self.intervals


@dataclass(frozen=True)
class OpenState:
    """Whether the office is open at a moment, and why (not)."""

    open: bool
    reason: Reason
    holiday: str | None = None
    note: str = ""
    closes_at: datetime | None = None
    next_opening: datetime | None = None


@lru_cache(maxsize=8)
def norwegian_holidays(year: int) -> Mapping[date, str]:
    """Norwegian public holidays of a year with their Bokmål names.

    Ordinary Sundays are left out (the ``holidays`` package counts them as
    holidays in Norway by default); the weekly schedule decides Sundays.
    """
    found = holidays.Norway(years=year, include_sundays=False, language="no")
    return dict(found.items())


@dataclass(frozen=True)
class OpeningHours:
    """The office's opening hours.

    Attributes:
        week: intervals per weekday, 0 = Monday.
        exceptions: dated exceptions, by date.
        timezone: the IANA zone the hours are given in.
        observe_holidays: closed on Norwegian public holidays.
    """

    week: Mapping[int, Sequence[Interval]] = field(default_factory=dict)
    exceptions: Mapping[date, DayException] = field(default_factory=dict)
    timezone: str = "Europe/Oslo"
    observe_holidays: bool = True

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def holiday(self, day: date) -> str | None:
        """The public holiday on ``day``, if it is one and holidays count."""
        if not self.observe_holidays:
            return None
        return norwegian_holidays(day.year).get(day)

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """The intervals the office is open on a local date."""
        exception = self.exceptions.get(day)
        if exception is not None:
            return exception.intervals
        if self.holiday(day) is not None:
            return ()
        return tuple(sorted(self.week.get(day.weekday(), ()), key=lambda i: i.opens))

    def state_at(self, moment: datetime) -> OpenState:
        """Open or closed at ``moment`` (any timezone-aware time), and why."""
        local = moment.astimezone(self.zone)
        day = local.date()
        for interval in self.intervals_on(day):
            if interval.opens <= local.time() < interval.closes:
                closes = datetime.combine(day, interval.closes, self.zone)
                return OpenState(True, "open", closes_at=closes)
        exception = self.exceptions.get(day)
        holiday = self.holiday(day)
        reason: Reason = "closed"
        if exception is not None:
            reason = "exception" if exception.closed else "closed"
        elif holiday is not None:
            reason = "holiday"
        return OpenState(
            False,
            reason,
            holiday=holiday if reason == "holiday" else None,
            note=exception.note if exception is not None else "",
            next_opening=self.next_opening(moment),
        )

    def next_opening(self, moment: datetime) -> datetime | None:
        """The next time the office opens after ``moment``, within three weeks."""
        local = moment.astimezone(self.zone)
        for offset in range(LOOKAHEAD_DAYS):
            day = local.date() + timedelta(days=offset)
            for interval in self.intervals_on(day):
                opens = datetime.combine(day, interval.opens, self.zone)
                if opens > local:
                    return opens
        return None

    def days_ahead(self, moment: datetime, count: int = 7) -> list[DayHours]:
        """The hours of the next ``count`` days from ``moment``, for display."""
        start = moment.astimezone(self.zone).date()
        shown = []
        for offset in range(count):
            day = start + timedelta(days=offset)
            exception = self.exceptions.get(day)
            shown.append(
                DayHours(
                    day=day,
                    intervals=self.intervals_on(day),
                    holiday=self.holiday(day) if exception is None else None,
                    note=exception.note if exception is not None else "",
                )
            )
        return shown


@dataclass(frozen=True)
class DayHours:
    """One day's hours as shown to members and staff."""

    day: date
    intervals: tuple[Interval, ...]
    holiday: str | None = None
    note: str = ""

    def label(self) -> str:
        """The intervals as text, empty when closed."""
        return ", ".join(interval.label() for interval in self.intervals)
