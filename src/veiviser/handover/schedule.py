"""Stored opening hours: the weekly schedule and dated exceptions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from itertools import pairwise

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from veiviser.handover.errors import InvalidOpeningHours
from veiviser.handover.hours import WEEKDAYS, DayException, Interval, OpeningHours
from veiviser.store.models_handover import OpeningException, OpeningHoursSlot

# More intervals than this on one day is a typing mistake, not a schedule.
MAX_INTERVALS_PER_DAY = 4
MAX_NOTE_CHARS = 200


def load_opening_hours(session: Session, timezone: str) -> OpeningHours:
    """The stored schedule and exceptions as one ``OpeningHours``."""
    week: dict[int, list[Interval]] = {day: [] for day in WEEKDAYS}
    for slot in session.scalars(select(OpeningHoursSlot).order_by(OpeningHoursSlot.id)):
        week.setdefault(slot.weekday, []).append(
            Interval.parse(slot.opens, slot.closes)
        )
    exceptions = {
        row.day: _exception(row) for row in session.scalars(select(OpeningException))
    }
    return OpeningHours(
        week={day: tuple(slots) for day, slots in week.items()},
        exceptions=exceptions,
        timezone=timezone,
    )


def _exception(row: OpeningException) -> DayException:
    if row.closed or not row.opens or not row.closes:
        return DayException(row.day, (), row.note)
    return DayException(row.day, (Interval.parse(row.opens, row.closes),), row.note)


def save_week(session: Session, week: Mapping[int, Sequence[Interval]]) -> None:
    """Replace the weekly schedule. The caller commits.

    Raises:
        InvalidOpeningHours: a weekday out of range, too many or overlapping
            intervals on one day.
    """
    for weekday, intervals in week.items():
        _check_day(weekday, intervals)
    session.execute(delete(OpeningHoursSlot))
    for weekday in sorted(week):
        for interval in sorted(week[weekday], key=lambda i: i.opens):
            session.add(
                OpeningHoursSlot(
                    weekday=weekday,
                    opens=f"{interval.opens:%H:%M}",
                    closes=f"{interval.closes:%H:%M}",
                )
            )
    session.flush()


def _check_day(weekday: int, intervals: Sequence[Interval]) -> None:
    if weekday not in WEEKDAYS:
        raise InvalidOpeningHours(
            f"Weekday {weekday} is not 0 (Monday) to 6 (Sunday).",
            details={"weekday": weekday},
        )
    if len(intervals) > MAX_INTERVALS_PER_DAY:
        raise InvalidOpeningHours(
            f"At most {MAX_INTERVALS_PER_DAY} intervals a day.",
            details={"weekday": weekday, "limit": MAX_INTERVALS_PER_DAY},
        )
    ordered = sorted(intervals, key=lambda i: i.opens)
    for before, after in pairwise(ordered):
        if after.opens < before.closes:
            raise InvalidOpeningHours(
                f"Intervals {before.label()} and {after.label()} overlap.",
                details={"weekday": weekday},
            )


def save_exception(
    session: Session, day: date, interval: Interval | None, note: str
) -> OpeningException:
    """Add or replace the exception on ``day``: closed (no interval) or special hours.

    Raises:
        InvalidOpeningHours: the note is too long.
    """
    note = " ".join(note.split())
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidOpeningHours(
            f"The note is over {MAX_NOTE_CHARS} characters.",
            details={"limit": MAX_NOTE_CHARS},
        )
    row = session.scalar(select(OpeningException).where(OpeningException.day == day))
    if row is None:
        row = OpeningException(day=day)
        session.add(row)
    row.closed = interval is None
    row.opens = None if interval is None else f"{interval.opens:%H:%M}"
    row.closes = None if interval is None else f"{interval.closes:%H:%M}"
    row.note = note
    session.flush()
    return row


def delete_exception(session: Session, day: date) -> bool:
    """Remove the exception on ``day``; True if there was one."""
    result = session.execute(
        delete(OpeningException).where(OpeningException.day == day)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def list_exceptions(session: Session, since: date) -> list[OpeningException]:
    """Exceptions from ``since`` on, by date."""
    query = (
        select(OpeningException)
        .where(OpeningException.day >= since)
        .order_by(OpeningException.day)
    )
    return list(session.scalars(query))
