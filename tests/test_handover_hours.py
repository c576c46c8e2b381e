"""Opening hours: week, exceptions, Norwegian holidays, Oslo time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from veiviser.handover.errors import InvalidOpeningHours
from veiviser.handover.hours import (
    DayException,
    Interval,
    OpeningHours,
    norwegian_holidays,
    parse_clock,
)

WEEKDAYS_9_TO_15 = {day: (Interval.parse("09:00", "15:00"),) for day in range(5)}


def hours(**changes) -> OpeningHours:
    return OpeningHours(week=WEEKDAYS_9_TO_15, **changes)


def oslo(text: str) -> datetime:
    """A moment given in Oslo wall-clock time."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Oslo"))


def test_open_inside_weekday_hours_and_closed_outside():
    week = hours()

    assert week.state_at(oslo("2027-03-03T09:00")).open
    assert week.state_at(oslo("2027-03-03T14:59")).open
    assert not week.state_at(oslo("2027-03-03T15:00")).open
    assert not week.state_at(oslo("2027-03-03T08:59")).open
    assert week.state_at(oslo("2027-03-06T11:00")).reason == "closed"  # Saturday


def test_hours_are_oslo_wall_clock_in_summer_and_winter():
    week = hours()

    # 07:30 UTC is 09:30 in Oslo in summer (CEST) but 08:30 in winter (CET).
    assert week.state_at(datetime(2027, 6, 2, 7, 30, tzinfo=UTC)).open
    assert not week.state_at(datetime(2027, 1, 6, 7, 30, tzinfo=UTC)).open


def test_public_holiday_is_closed_with_its_norwegian_name():
    # Ascension Day 2027 is a Thursday.
    state = hours().state_at(oslo("2027-05-06T10:00"))

    assert not state.open
    assert state.reason == "holiday"
    assert state.holiday == "Kristi himmelfartsdag"
    assert state.next_opening == oslo("2027-05-07T09:00")


def test_ordinary_sundays_are_not_counted_as_holidays():
    assert all(
        day.weekday() != 6 or name for day, name in norwegian_holidays(2027).items()
    )
    assert date(2027, 3, 7) not in norwegian_holidays(2027)  # an ordinary Sunday


def test_exception_closes_a_working_day_and_says_why():
    closed = DayException(date(2027, 3, 3), (), "Personalmøte")
    week = hours(exceptions={closed.day: closed})

    state = week.state_at(oslo("2027-03-03T10:00"))

    assert not state.open
    assert state.reason == "exception"
    assert state.note == "Personalmøte"


def test_exception_opens_a_holiday_with_special_hours():
    special = DayException(date(2027, 5, 17), (Interval.parse("10:00", "12:00"),))
    week = hours(exceptions={special.day: special})

    assert week.state_at(oslo("2027-05-17T11:00")).open
    assert not week.state_at(oslo("2027-05-17T12:30")).open


def test_holidays_can_be_ignored():
    assert hours(observe_holidays=False).state_at(oslo("2027-05-17T10:00")).open


def test_next_opening_skips_the_weekend():
    state = hours().state_at(oslo("2027-03-05T16:00"))  # Friday afternoon

    assert state.next_opening == oslo("2027-03-08T09:00")


def test_days_ahead_lists_hours_and_holidays():
    days = hours().days_ahead(oslo("2027-05-05T12:00"), 3)

    assert [d.label() for d in days] == ["09:00–15:00", "", "09:00–15:00"]
    assert days[1].holiday == "Kristi himmelfartsdag"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "9",
        "24:00",
        "12:60",
        "ni",
        "09:00; DROP TABLE",
        "<script>",
        "１２:００",
        "9" * 500,
    ],
    ids=[
        "empty",
        "no-minutes",
        "hour-24",
        "minute-60",
        "words",
        "sql",
        "xss",
        "fullwidth",
        "huge",
    ],
)
def test_malformed_times_are_refused_with_a_named_error(value):
    with pytest.raises(InvalidOpeningHours):
        parse_clock(value)


def test_norwegian_dot_time_is_understood():
    assert parse_clock("8.30") == time(8, 30)


def test_interval_that_closes_before_it_opens_is_refused():
    with pytest.raises(InvalidOpeningHours):
        Interval.parse("15:00", "09:00")
