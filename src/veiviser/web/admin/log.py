"""The conversation log and full transcripts, for trainers, editors, administrators.

Texts were masked before they were stored; the pages show no member identity
(a conversation has none), not even for members who were logged in.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from veiviser.insight.clock import day_bounds
from veiviser.review import log as conversation_log
from veiviser.review.log import oslo_time
from veiviser.service import editing
from veiviser.service.assistant import Assistant
from veiviser.service.staff import Role, StaffUser
from veiviser.web.admin.auth import require_role
from veiviser.web.admin.day_range import in_range
from veiviser.web.admin.pages import AdminFeature, NavItem, render
from veiviser.web.admin.texts import admin_texts

ROLES = (Role.EDITOR, Role.TRAINER)
router = APIRouter(prefix="/admin/log", include_in_schema=False)
Reader = Annotated[StaffUser, Depends(require_role(*ROLES))]


def _assistant(request: Request) -> Assistant:
    return request.app.state.assistant


def _day(value: str) -> tuple[date | None, str | None]:
    """A date from a form field, or ``None`` with the reason it is unusable."""
    if not value:
        return None, None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None, "bad_date"
    return (day, None) if in_range(day) else (None, "date_range")


def _period(start: str, end: str) -> tuple[date | None, date | None, str | None]:
    """The first and last day of the filter, and the text key of a problem."""
    first, start_problem = _day(start.strip())
    last, end_problem = _day(end.strip())
    problem = start_problem or end_problem
    if first is not None and last is not None and last < first:
        problem = "period"
    return first, last, problem


@router.get("", response_class=HTMLResponse)
async def log_page(
    request: Request,
    user: Reader,
    start: str = "",
    end: str = "",
    intent: str = "",
    outcome: str = "",
    feedback: str = "",
    language: str = "",
    before: str = "",
) -> HTMLResponse:
    """Member messages with their replies, filtered, newest first."""
    first, last, problem = _period(start, end)
    wanted = conversation_log.LogFilter(
        start=day_bounds(first)[0] if first else None,
        end=day_bounds(last)[1] if last else None,
        intent=intent[:63],
        outcome=outcome if outcome in conversation_log.OUTCOMES else "",
        feedback=feedback if feedback in conversation_log.FEEDBACK else "",
        language=language[:8],
    )
    cursor = int(before) if before.isdigit() and len(before) < 19 else None
    assistant = _assistant(request)

    def read() -> tuple[conversation_log.LogPage, list[str]]:
        with assistant.sessions() as session:
            page = conversation_log.read_log(session, wanted, cursor)
            return page, conversation_log.languages(session)

    page, codes = await run_in_threadpool(read)
    intents = await run_in_threadpool(editing.list_intents, assistant.sessions)
    shown = {
        "start": first.isoformat() if first else "",
        "end": last.isoformat() if last else "",
        "intent": wanted.intent,
        "outcome": wanted.outcome,
        "feedback": wanted.feedback,
        "language": wanted.language,
    }
    next_url = None
    if page.next_before is not None:
        next_url = "/admin/log?" + urlencode({**shown, "before": page.next_before})
    return render(
        request,
        "admin/log.html",
        when=oslo_time,
        status_code=422 if problem else 200,
        page=page,
        filters=shown,
        date_problem=problem,
        intents=intents,
        languages=codes,
        outcomes=list(conversation_log.OUTCOMES),
        next_url=next_url,
        paged=cursor is not None,
        first_url="/admin/log?" + urlencode(shown),
    )


@router.get("/{conversation_id}", response_class=HTMLResponse)
async def transcript_page(
    request: Request, user: Reader, conversation_id: str
) -> HTMLResponse:
    """One conversation from the greeting to its last message."""
    assistant = _assistant(request)
    key = conversation_id.strip().lower()[:32]

    def read():
        with assistant.sessions() as session:
            found = conversation_log.transcript(session, key)
            if found is not None:
                # Read every value now; the session closes on return.
                session.expunge_all()
            return found

    found = await run_in_threadpool(read)
    if found is None:
        return render(
            request,
            "admin/log_transcript.html",
            status_code=404,
            conversation=None,
            when=oslo_time,
        )
    conversation, lines = found
    return render(
        request,
        "admin/log_transcript.html",
        when=oslo_time,
        conversation=conversation,
        lines=lines,
        member_messages=sum(1 for line in lines if line.message.role == "member"),
        kind_names=masked_kind_names,
    )


def masked_kind_names(kinds: list[str]) -> str:
    """The stored kinds of masked personal data, in the staff's words."""
    texts = admin_texts()
    return ", ".join(
        texts.get(f"review.log.masked_kind.{kind}", kind) for kind in kinds
    )


feature = AdminFeature(router, nav=(NavItem("/admin/log", "nav.log", ROLES),))
