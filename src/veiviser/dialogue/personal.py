"""Personal answers: the part of a reply that depends on who is asking.

An intent may carry a ``personal_answer`` template besides its general
answer. A stored reply to such an intent always keeps the general answer and
the template's id, whoever asked; what is shown is decided per request, for
a new reply and for the history alike:

- a verified member whose record could be read sees the template filled in;
- anyone else sees the general answer with a note saying why it is not
  personal: not logged in (an invitation to Min side), the login failed, the
  member directory is unavailable, or the member is not in it.

A reply to two questions (``multi``) is personal when an answer it shows
is. Its mark is not an intent id but the layout (``multi:both`` or
``multi:first``, which no intent id can be); the intents are the stored
reply's own ``intents``. For a member the reply is rebuilt with the personal
parts filled in; anyone else sees the stored general reply and one note.

Knows nothing of tokens or directories: the service hands in a
``MemberContext`` whose ``fill`` turns a template into Markdown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from veiviser.dialogue.rendering import render_markdown
from veiviser.dialogue.turn import multi_html, multi_shows_both
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
# Marks of two-question replies: both answers shown, or only the first.
MULTI_BOTH = "multi:both"
MULTI_FIRST = "multi:first"
# Personal answers are rendered without the renderer's cache, so no member's
# filled-in answer stays in this process's memory after the request.
render_personal: Callable[[str], str] = render_markdown.__wrapped__


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
    outcome: str | None, intents: Sequence[str], view: KnowledgeView
) -> str | None:
    """The mark of a reply that answers personal intents, or None.

    Args:
        outcome: the reply's outcome; only ``answer`` and ``multi`` can be
            personal (a clarification shows no answer).
        intents: the intents the reply answers, in order.
        view: the knowledge base the reply was made from.

    Returns:
        The intent's id for a plain answer, ``MULTI_BOTH`` or ``MULTI_FIRST``
        for a two-question reply that shows a personal answer.
    """
    if outcome == "answer" and len(intents) == 1:
        intent = view.intent(intents[0])
        return intent.id if intent is not None and intent.personal_answer else None
    if outcome != "multi" or len(intents) != 2:
        return None
    first, second = view.intent(intents[0]), view.intent(intents[1])
    if first is None or second is None:
        return None
    # Limitation: the layout is decided again here, from the model in use
    # when the reply is marked; a model swapped in between the turn and the
    # mark could name the other layout. Storing the layout with the reply
    # (a column on message) would retire this.
    both = multi_shows_both(first, second)
    shown = (first, second) if both else (first,)
    if not any(intent.personal_answer for intent in shown):
        return None
    return MULTI_BOTH if both else MULTI_FIRST


def shown_html(
    general_html: str,
    template: str,
    view: KnowledgeView,
    member: MemberContext,
    intents: Sequence[str] = (),
) -> str:
    """What a member sees for a reply that uses a personal template.

    The personal answer when it can be given; otherwise the general answer
    with a note that says why not.

    Args:
        general_html: the reply as stored.
        template: the reply's mark (``personal_template``).
        view: the knowledge base in use.
        member: who asks.
        intents: the reply's intents (needed for a two-question reply).
    """
    if template in (MULTI_BOTH, MULTI_FIRST):
        html = _personal_multi_html(template, intents, view, member)
    else:
        html = personal_html(template, view, member)
    if html is not None:
        return html
    status = "unavailable" if member.status == "member" else member.status
    return general_html + "\n" + view.text_html(NOTES[status])


def _personal_multi_html(
    template: str, intents: Sequence[str], view: KnowledgeView, member: MemberContext
) -> str | None:
    """A two-question reply rebuilt with its personal parts filled in."""
    if member.status != "member" or member.fill is None or len(intents) != 2:
        return None
    wanted = intents if template == MULTI_BOTH else intents[:1]
    shown = [i for i in (view.intent(intent_id) for intent_id in wanted) if i]
    # An intent removed since, or none personal any more: the stored reply.
    if len(shown) != len(wanted) or not any(i.personal_answer for i in shown):
        return None
    parts: list[str] = []
    for intent in shown:
        if not intent.personal_answer:
            parts.append(view.answer_html(intent))
            continue
        html = personal_html(intent.id, view, member)
        if html is None:
            # One part cannot be filled: the general reply and its note,
            # rather than half a personal answer.
            return None
        parts.append(html)
    return multi_html(view, parts[0], parts[1] if len(parts) == 2 else None)


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
        return render_personal(member.fill(intent.personal_answer))
    except VeiviserError as error:
        # An invalid template must not break the chat; the general answer is
        # still right, and the editor sees the problem in the log.
        log.warning("personal answer of %s not filled: %s", intent_id, error.code)
        return None
