"""Named errors of the handover, each with its HTTP status and stable code."""

from __future__ import annotations

from veiviser.errors import InvalidInput, NotFound, VeiviserError


class InvalidOpeningHours(InvalidInput):
    """An opening-hours entry that cannot be used (bad time, closes first)."""

    code = "invalid_opening_hours"


class InvalidTicket(InvalidInput):
    """A contact form without contact details, consent or message."""

    code = "invalid_ticket"


class HandoverNotFound(NotFound):
    """No handover has this id, or the conversation has none open."""

    code = "handover_not_found"


class TicketNotFound(NotFound):
    """No ticket has this id (it may have been deleted under retention)."""

    code = "ticket_not_found"


class HandoverConflict(VeiviserError):
    """The handover is not in a state that allows this (taken, ended)."""

    status = 409
    code = "handover_conflict"


class AlreadyClaimed(HandoverConflict):
    """Another advisor took the conversation first."""

    code = "handover_already_claimed"


class WithPerson(HandoverConflict):
    """A person has the conversation; the assistant does not answer."""

    code = "handover_active"
