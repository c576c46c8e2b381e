"""Errors of the chat service, each with its HTTP status and stable code."""

from __future__ import annotations

from veiviser.errors import Forbidden, InvalidInput, NotFound


class ConversationNotFound(NotFound):
    """No conversation has this id (or it has been deleted)."""

    code = "conversation_not_found"


class MessageNotFound(NotFound):
    """The conversation has no message with this sequence number."""

    code = "message_not_found"


class TokenMissing(Forbidden):
    """The request carries no conversation token."""

    status = 401
    code = "unauthorized"


class WrongToken(Forbidden):
    """The token given is not this conversation's token."""

    code = "forbidden"


class NotAReply(InvalidInput):
    """Feedback was given on a member's own message, not on a reply."""

    code = "not_a_reply"
