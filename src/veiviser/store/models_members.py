"""Tables for the built-in member directory and for personal replies.

The directory tables (``member*``) hold who the members are; they are filled
by ``veiviser members import`` and read only to answer a logged-in member.
Nothing in them points at a conversation, and nothing in a conversation
points at them: ``personal_reply`` records only which personal template a
stored reply used, never for whom.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from veiviser.store.models import Base, utc_now

BigId = BigInteger().with_variant(Integer(), "sqlite")

# Tables that hold the directory itself; the anonymity checks search every
# other table for personal values.
DIRECTORY_TABLES = (
    "member_employer",
    "member_representative",
    "member",
    "member_course",
    "member_enrolment",
    "member_invoice",
)


class MemberEmployer(Base):
    """An employer members work for."""

    __tablename__ = "member_employer"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class MemberRepresentative(Base):
    """A union representative (tillitsvalgt) at one employer."""

    __tablename__ = "member_representative"
    __table_args__ = (Index("ix_member_representative_employer", "employer_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    employer_id: Mapped[str] = mapped_column(
        ForeignKey("member_employer.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))


class Member(Base):
    """A member; ``id`` is the subject (``sub``) of the portal's login token."""

    __tablename__ = "member"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    member_number: Mapped[str] = mapped_column(String(40))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    joined_on: Mapped[date | None] = mapped_column(Date)
    employer_id: Mapped[str | None] = mapped_column(
        ForeignKey("member_employer.id", ondelete="SET NULL")
    )


class MemberCourse(Base):
    """A course members can enrol in."""

    __tablename__ = "member_course"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(200))


class MemberEnrolment(Base):
    """A member's place on a course."""

    __tablename__ = "member_enrolment"

    member_id: Mapped[str] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[str] = mapped_column(
        ForeignKey("member_course.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16))


class MemberInvoice(Base):
    """A dues invoice sent to a member."""

    __tablename__ = "member_invoice"
    __table_args__ = (Index("ix_member_invoice_member", "member_id", "due_on"),)

    number: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    due_on: Mapped[date] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)


class MemberKey(Base):
    """A secret shared by every process, e.g. the demo portal's signing key."""

    __tablename__ = "member_key"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class PersonalReply(Base):
    """Marks a stored reply whose member saw a personal answer.

    The reply row itself keeps the general answer; this row keeps only the
    template used (the intent id), so the history can show the personal part
    again to a member who is logged in when reading it.
    """

    __tablename__ = "personal_reply"

    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("message.id", ondelete="CASCADE"), primary_key=True
    )
    template: Mapped[str] = mapped_column(String(63))
