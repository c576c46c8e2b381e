"""The days the admin's date and time fields accept.

Python's dates run from year 1 to 9999, but a day at either end cannot be
moved to UTC or have a day added (``0001-01-01`` in Oslo time is in year 0
in UTC), which raised ``OverflowError`` deep in a query. The admin pages
refuse a day outside this range with a Norwegian message instead; no
conversation, change or notice is that old or that far ahead.
"""

from __future__ import annotations

from datetime import date

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9998, 12, 31)


def in_range(day: date) -> bool:
    """Whether ``day`` lies between :data:`FIRST_DAY` and :data:`LAST_DAY`."""
    return FIRST_DAY <= day <= LAST_DAY


def text_in_range(value: str) -> bool:
    """Whether ``value`` is not a date (checked elsewhere) or one in range."""
    try:
        return in_range(date.fromisoformat(value.strip()[:10]))
    except ValueError:
        return True
