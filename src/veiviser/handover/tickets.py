"""Messages left for the advisors when nobody can take the chat.

The member writes the contact details they want to be reached on and
consents to their use; those details live in the ticket only. The message
itself is masked like any chat text: contact details belong in their field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from veiviser.errors import InvalidInput
from veiviser.handover.errors import InvalidTicket, TicketNotFound
from veiviser.store.models_handover import HandoverTicket
from veiviser.text import clean_message
from veiviser.text.masking import mask_personal_data

OPEN = "open"
CLOSED = "closed"
MAX_NAME_CHARS = 200
MAX_CONTACT_CHARS = 200
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']{2,}$")
_PHONE = re.compile(r"^\+?[\d ().-]{8,20}$")


@dataclass(frozen=True)
class ContactForm:
    """What the member filled in."""

    contact: str
    message: str
    consent: bool
    name: str = ""


@dataclass(frozen=True)
class CheckedForm:
    """A contact form ready to store: trimmed, message masked."""

    name: str
    contact: str
    message: str


def check_form(form: ContactForm, max_message_chars: int) -> CheckedForm:
    """Validate a contact form.

    Raises:
        InvalidTicket: no consent, a contact that is neither a phone number
            nor an e-mail address, or an empty or over-long field. ``details``
            names the field.
    """
    if form.consent is not True:
        raise InvalidTicket("Consent is required.", details={"field": "consent"})
    name = " ".join(form.name.split())
    if len(name) > MAX_NAME_CHARS:
        raise InvalidTicket(
            f"The name is over {MAX_NAME_CHARS} characters.",
            details={"field": "name", "limit": MAX_NAME_CHARS},
        )
    contact = " ".join(form.contact.split())
    if not _is_contact(contact):
        raise InvalidTicket(
            "The contact is neither a phone number nor an e-mail address.",
            details={"field": "contact"},
        )
    try:
        message = clean_message(form.message, max_message_chars)
    except InvalidInput as error:
        raise InvalidTicket(
            "The message is empty or too long.",
            details={"field": "message", "limit": max_message_chars},
        ) from error
    return CheckedForm(name, contact, mask_personal_data(message).text)


def _is_contact(contact: str) -> bool:
    if not contact or len(contact) > MAX_CONTACT_CHARS:
        return False
    if _EMAIL.match(contact):
        return True
    digits = sum(c.isdigit() for c in contact)
    return bool(_PHONE.match(contact)) and 8 <= digits <= 15


def create(
    session: Session,
    conversation_id: str | None,
    form: CheckedForm,
    *,
    consent_text: str,
    topic_title: str | None,
    now: datetime,
) -> HandoverTicket:
    """Store a ticket. The caller commits."""
    ticket = HandoverTicket(
        conversation_id=conversation_id,
        name=form.name,
        contact=form.contact,
        message=form.message,
        topic_title=topic_title,
        consent_text=consent_text,
        status=OPEN,
        created_at=now,
    )
    session.add(ticket)
    session.flush()
    return ticket


def listed(
    session: Session, status: str | None = OPEN, limit: int = 200
) -> list[HandoverTicket]:
    """Tickets, the oldest open first (or the newest closed first)."""
    query = select(HandoverTicket)
    if status is not None:
        query = query.where(HandoverTicket.status == status)
    order = (
        HandoverTicket.created_at
        if status == OPEN
        else HandoverTicket.created_at.desc()
    )
    return list(session.scalars(query.order_by(order).limit(limit)))


def close(
    session: Session, ticket_id: int, closed_by: str, now: datetime
) -> HandoverTicket:
    """Mark a ticket as dealt with.

    Raises:
        TicketNotFound: no ticket has this id.
    """
    ticket = session.get(HandoverTicket, ticket_id)
    if ticket is None:
        raise TicketNotFound(f"No ticket {ticket_id}.", details={"ticket": ticket_id})
    if ticket.status != CLOSED:
        ticket.status = CLOSED
        ticket.closed_at = now
        ticket.closed_by = closed_by
        session.flush()
    return ticket


def purge(session: Session, older_than: datetime) -> int:
    """Delete tickets created before ``older_than``; how many went."""
    result = session.execute(
        delete(HandoverTicket).where(HandoverTicket.created_at < older_than)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
