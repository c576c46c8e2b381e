"""Personal answers in the chat: who asks (per request) and what they see.

The chat service asks this module three things:

- ``identify``: who a request's member token proves, on every request that
  reads or writes a conversation; a bad token is a failed login, never an
  error, and the chat goes on anonymously;
- ``mark`` / ``templates``: which stored replies use a personal template;
  a stored reply keeps the general answer and the template id, whoever
  asked, so nothing stored tells who asked;
- ``shown``: what a request sees for those replies: the personal answer for
  a member whose record could be read, else the general answer and a note.

The directory is asked once per request, and only when a reply in it is
personal. A directory that is down gives the note "unavailable", never an
error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from veiviser.dialogue import KnowledgeView
from veiviser.dialogue.personal import (
    MemberContext,
    personal_template,
    render_personal,
    shown_html,
)
from veiviser.members.access import ANONYMOUS, Login, MemberAccess
from veiviser.members.demo import demo_record
from veiviser.members.errors import DirectoryUnavailable
from veiviser.members.replies import mark_personal, personal_templates
from veiviser.members.templates import (
    PLACEHOLDERS,
    TemplateProblem,
    Words,
    fill_template,
    template_problems,
)

__all__ = [
    "ANONYMOUS",
    "Login",
    "PersonalAnswers",
    "PersonalPreview",
    "StoredReply",
    "editor_placeholders",
    "member_context",
    "preview_personal_answer",
    "union_today",
]

log = logging.getLogger(__name__)

# Invoices fall due and courses start by the union's calendar.
UNION_TIMEZONE = ZoneInfo("Europe/Oslo")


def union_today() -> date:
    """Today's date in Norway."""
    return datetime.now(UNION_TIMEZONE).date()


def member_context(
    access: MemberAccess | None,
    login: Login,
    words: Words,
    today: Callable[[], date] = union_today,
) -> MemberContext:
    """The dialogue's view of the member behind one request.

    Looks the member up in the directory when the login is valid.
    """
    if login.status == "anonymous":
        return MemberContext("anonymous")
    if login.status == "failed" or access is None:
        return MemberContext("failed")
    try:
        record = access.lookup(login)
    except DirectoryUnavailable as error:
        log.warning("member directory unavailable: %s", error.message)
        return MemberContext("unavailable")
    if record is None:
        log.info("member login valid, but the member is not in the directory")
        return MemberContext("not_found")
    return MemberContext(
        "member", fill=partial(fill_template, record=record, words=words, today=today())
    )


class PersonalAnswers:
    """Member login and personal answers for the chat service.

    Args:
        access: token verification and member lookup; None turns member
            login off (a token then counts as a failed login).
        today: the date personal answers are judged by (tests pass theirs).
    """

    def __init__(
        self,
        access: MemberAccess | None,
        today: Callable[[], date] = union_today,
    ) -> None:
        self.access = access
        self.today = today

    def identify(self, token: str | None) -> Login:
        """Who the member token proves; a missing token is anonymous."""
        if token is None:
            return ANONYMOUS
        if self.access is None:
            log.info("member login failed: member login is not configured")
            return Login("failed", reason="not_configured")
        return self.access.identify(token)

    def mark(
        self,
        session: Session,
        conversation_id: str,
        seq: int,
        outcome: str | None,
        intents: Sequence[str],
        view: KnowledgeView,
    ) -> None:
        """Record the template of a new reply, if it answers a personal intent.

        Args:
            session: the open transaction.
            conversation_id: the conversation.
            seq: the reply's sequence number.
            outcome: the reply's outcome.
            intents: the intents the reply answers, in order.
            view: the knowledge base the reply was made from.
        """
        template = personal_template(outcome, intents, view)
        if template is not None:
            mark_personal(session, conversation_id, seq, template)

    @staticmethod
    def templates(
        session: Session, conversation_id: str, seqs: list[int]
    ) -> dict[int, str]:
        """The personal template of each of these replies, by sequence number."""
        return personal_templates(session, conversation_id, seqs)

    def shown(
        self,
        replies: Mapping[int, StoredReply],
        login: Login,
        view: KnowledgeView,
    ) -> dict[int, str]:
        """What this request sees for replies that use personal templates.

        Args:
            replies: sequence number to the stored reply's mark, general
                html and intents.
            login: who the request speaks for.
            view: the knowledge base in use.

        Returns:
            Sequence number to the html to show.
        """
        if not replies:
            return {}
        member = member_context(self.access, login, view.texts.get, self.today)
        return {
            seq: shown_html(
                reply.general_html, reply.template, view, member, reply.intents
            )
            for seq, reply in replies.items()
        }


@dataclass(frozen=True)
class StoredReply:
    """A stored reply that uses a personal template, as the service reads it.

    Attributes:
        template: its mark (an intent id, or a two-question layout).
        general_html: the general answer as stored.
        intents: the intents it answers, in order.
    """

    template: str
    general_html: str
    intents: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonalPreview:
    """A personal template filled in for a fictional demo member (the admin).

    Attributes:
        member: the demo member's name, for the heading.
        html: the answer as that member would see it; empty when the
            template has problems.
        problems: what is wrong with the template (nothing is filled then).
    """

    member: str
    html: str
    problems: tuple[TemplateProblem, ...] = ()


def preview_personal_answer(
    template: str,
    member_id: str,
    words: Words,
    today: Callable[[], date] = union_today,
) -> PersonalPreview | None:
    """A template as a fictional demo member would see it in the chat.

    Only the demo members shipped with veiviser are ever used, whatever
    directory is configured: an editor trying a template never sees, and
    nothing logs, a real member's data.

    Args:
        template: the personal answer template as the editor typed it.
        member_id: a demo member's id (``demo_members``).
        words: the chat's texts (the knowledge base's own wording).
        today: the date invoices and courses are judged by.

    Returns:
        The preview; None for an empty template or an unknown demo member.
    """
    record = demo_record(member_id)
    if not template.strip() or record is None:
        return None
    problems = tuple(template_problems(template))
    if problems:
        return PersonalPreview(record.full_name, "", problems)
    filled = fill_template(template, record, words, today())
    return PersonalPreview(record.full_name, render_personal(filled))


def editor_placeholders() -> list[tuple[str, str]]:
    """Every placeholder as the editor writes it, with its text key (admin).

    The key names the placeholder's description in the admin texts
    (``members.placeholder.<key>``); a test checks each one has a text.
    """
    return [
        ("{" + name + "}", name.replace(".", "_").replace(":", "_"))
        for name in PLACEHOLDERS
    ]
