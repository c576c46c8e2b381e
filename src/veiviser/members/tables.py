"""The built-in member directory: tables filled by ``veiviser members import``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from veiviser.members.errors import DirectoryUnavailable
from veiviser.members.records import (
    Enrolment,
    Invoice,
    MemberRecord,
    Representative,
)
from veiviser.store.models_members import (
    Member,
    MemberCourse,
    MemberEmployer,
    MemberEnrolment,
    MemberInvoice,
    MemberRepresentative,
)


class TableDirectory:
    """Reads members from the database this process already uses.

    Args:
        sessions: database sessions.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def lookup(self, member_id: str) -> MemberRecord | None:
        """The member's record, or None if no member has this id.

        Raises:
            DirectoryUnavailable: the database cannot be read.
        """
        try:
            with self.sessions() as session:
                return _record(session, member_id)
        except SQLAlchemyError as error:
            raise DirectoryUnavailable(
                "The member tables cannot be read right now."
            ) from error


def _record(session: Session, member_id: str) -> MemberRecord | None:
    member = session.get(Member, member_id)
    if member is None:
        return None
    employer = (
        session.get(MemberEmployer, member.employer_id) if member.employer_id else None
    )
    return MemberRecord(
        member_number=member.member_number,
        first_name=member.first_name,
        last_name=member.last_name,
        joined_on=member.joined_on,
        employer=employer.name if employer else None,
        representatives=_representatives(session, member.employer_id),
        enrolments=_enrolments(session, member_id),
        invoices=_invoices(session, member_id),
    )


def _representatives(
    session: Session, employer_id: str | None
) -> tuple[Representative, ...]:
    if employer_id is None:
        return ()
    rows = session.scalars(
        select(MemberRepresentative)
        .where(MemberRepresentative.employer_id == employer_id)
        .order_by(MemberRepresentative.id)
    )
    return tuple(
        Representative(name=r.name, role=r.role, email=r.email, phone=r.phone)
        for r in rows
    )


def _enrolments(session: Session, member_id: str) -> tuple[Enrolment, ...]:
    rows = session.execute(
        select(MemberCourse, MemberEnrolment.status)
        .join(MemberEnrolment, MemberEnrolment.course_id == MemberCourse.id)
        .where(MemberEnrolment.member_id == member_id)
        .order_by(MemberCourse.starts_on, MemberCourse.id)
    )
    return tuple(
        Enrolment(
            title=course.title,
            status=status,
            starts_on=course.starts_on,
            place=course.place,
        )
        for course, status in rows
    )


def _invoices(session: Session, member_id: str) -> tuple[Invoice, ...]:
    rows = session.scalars(
        select(MemberInvoice)
        .where(MemberInvoice.member_id == member_id)
        .order_by(MemberInvoice.due_on.desc(), MemberInvoice.number.desc())
    )
    return tuple(
        Invoice(
            number=i.number,
            period=i.period,
            amount=i.amount,
            due_on=i.due_on,
            paid_on=i.paid_on,
        )
        for i in rows
    )
