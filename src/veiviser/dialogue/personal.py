"""Personal answers: the part of a reply that depends on who is asking.

An intent may carry a ``personal_answer`` template besides its general
answer. A stored reply to such an intent always keeps the general answer and
the template's id, whoever asked; what is shown is decided per request, for
a new reply and for the history alike:

- a verified member whose record could be read sees the template filled in;
- anyone else sees the general answer with a note saying why it is not
  personal: not logged in (an invitation to Min side), the login failed, the
  member directory is unavailable, or the member is not in it.

Knows nothing of tokens or directories: the service hands in a
``MemberContext`` whose ``fill`` turns a template into Markdown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from veiviser.dialogue.rendering import render_markdown
from veiviser.dialogue.view import KnowledgeView
from veiviser.errors import VeiviserError

log = logging.getLogger(__name__)

PersonalStatus = Literal["anonymous", "member", "failed", "unavailable", "not_found"]

# The note under a general answer, by why the answer is not personal.
NOTES: dict[str, str] = {
    "anonymous": "personal_login_invite",
    "failed": "personal_login_failed",
    "unavailable": "personal_unavailable",
    "not_found": "personal_not_found",
}


@dataclass(frozen=True)
class MemberContext:
    """What the dialogue may know of the member: a status and a filler.

    Attributes:
        status: why a personal answer can or cannot be given.
        fill: for a ``member``, turns a template into Markdown with the
            member's values; it may raise a ``VeiviserError``.
    """

    status: PersonalStatus
    fill: Callable[[str], str] | None = field(default=None, repr=False)


def personal_template(
    outcome: str | None, intent_id: str | None, view: KnowledgeView
) -> str | None:
    """The id of the personal template a reply uses, if it answers such an intent.

    Only a plain answer is personal; a clarification or two answers in one
    (multi) show the general answers.
    """
    # Limitation: a multi reply (two answers) stays general; personalising
    # it needs the reply to keep which part is which intent's answer.
    if outcome != "answer" or intent_id is None:
        return None
    intent = view.intent(intent_id)
    if intent is None or not intent.personal_answer:
        return None
    return intent.id


def shown_html(
    general_html: str, template: str, view: KnowledgeView, member: MemberContext
) -> str:
    """What a member sees for a reply that uses a personal template.

    The personal answer when it can be given; otherwise the general answer
    with a note that says why not.
    """
    html = personal_html(template, view, member)
    if html is not None:
        return html
    status = "unavailable" if member.status == "member" else member.status
    return general_html + "\n" + view.text_html(NOTES[status])


def personal_html(
    intent_id: str, view: KnowledgeView, member: MemberContext
) -> str | None:
    """The intent's personal answer for this member, or None if none can be given."""
    intent = view.intent(intent_id)
    if member.status != "member" or member.fill is None:
        return None
    if intent is None or not intent.personal_answer:
        return None
    try:
        return render_markdown(member.fill(intent.personal_answer))
    except VeiviserError as error:
        # An invalid template must not break the chat; the general answer is
        # still right, and the editor sees the problem in the log.
        log.warning("personal answer of %s not filled: %s", intent_id, error.code)
        return None
