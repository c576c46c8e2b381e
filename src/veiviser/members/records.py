"""A member's record: what personal answers may show, and nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

EnrolmentStatus = Literal["enrolled", "waitlisted", "completed", "cancelled"]
ENROLMENT_STATUSES: tuple[str, ...] = (
    "enrolled",
    "waitlisted",
    "completed",
    "cancelled",
)
InvoiceStatus = Literal["paid", "open", "overdue"]


class _Private:
    """Records hold personal data; their repr never shows it.

    A record that ends up in a log line or an error message by accident then
    says only what kind of thing it is.
    """

    def __repr__(self) -> str:
        return f"{type(self).__name__}(…)"


@dataclass(frozen=True, repr=False)
class Representative(_Private):
    """A union representative (tillitsvalgt) at the member's workplace."""

    name: str
    role: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, repr=False)
class Enrolment(_Private):
    """The member's place on a course."""

    title: str
    status: EnrolmentStatus
    starts_on: date | None = None
    place: str | None = None


@dataclass(frozen=True, repr=False)
class Invoice(_Private):
    """A dues invoice."""

    number: str
    period: str
    amount: Decimal
    due_on: date
    paid_on: date | None = None

    def status(self, today: date) -> InvoiceStatus:
        """Paid, open (not yet due) or overdue on ``today``."""
        if self.paid_on is not None:
            return "paid"
        return "overdue" if self.due_on < today else "open"


@dataclass(frozen=True, repr=False)
class MemberRecord(_Private):
    """Everything a personal answer can draw on, for one member.

    Lists are ordered for showing: courses by start date, invoices newest
    first.
    """

    member_number: str
    first_name: str
    last_name: str
    joined_on: date | None = None
    employer: str | None = None
    representatives: tuple[Representative, ...] = ()
    enrolments: tuple[Enrolment, ...] = ()
    invoices: tuple[Invoice, ...] = ()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
