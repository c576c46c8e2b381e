"""The advisors' pages: presence, the queue, live chats, tickets, opening hours.

Advisors (and administrators) open these. The queue fragment is polled by
admin.js and doubles as the advisor's heartbeat; an open chat reads its
events as server-sent events (``EventSource``, same origin, session cookie)
and posts messages with the page's CSRF token.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from veiviser.errors import InvalidInput, NotFound, VeiviserError
from veiviser.handover.errors import (
    AlreadyClaimed,
    HandoverConflict,
    InvalidOpeningHours,
    TicketNotFound,
)
from veiviser.handover.hours import Interval
from veiviser.service import Assistant
from veiviser.service.handover import EventView, HandoverService, QueueEntry
from veiviser.service.staff import Role, StaffUser
from veiviser.web.admin.auth import require_role, verify_csrf
from veiviser.web.admin.pages import (
    AdminFeature,
    FormText,
    NavItem,
    error_page,
    render,
    see_other,
)
from veiviser.web.admin.texts import t

router = APIRouter(prefix="/admin/handover", include_in_schema=False)
AdvisorUser = Annotated[StaffUser, Depends(require_role(Role.ADVISOR))]
Csrf = [Depends(verify_csrf)]
_INTERVAL = re.compile(r"^\s*(\d{1,2}[:.]\d{2})\s*[-–]\s*(\d{1,2}[:.]\d{2})\s*$")
MAX_HOURS_FIELD = 100


def _service(request: Request) -> HandoverService:
    assistant: Assistant = request.app.state.assistant
    return assistant.handover


# --- The console: presence, queue, own chats --------------------------------


@router.get("", response_class=HTMLResponse)
def console(request: Request, user: AdvisorUser) -> HTMLResponse:
    """Presence, the queue and the advisor's own conversations."""
    service = _service(request)
    service.beat(user)
    return render(
        request,
        "admin/handover.html",
        available=service.is_available(user),
        availability=service.availability(),
        **_queue_context(service, user),
    )


@router.get("/queue", response_class=HTMLResponse)
def queue_fragment(request: Request, user: AdvisorUser) -> HTMLResponse:
    """The queue and own chats, polled by the console (and a heartbeat)."""
    service = _service(request)
    service.beat(user)
    return render(request, "admin/handover_queue.html", **_queue_context(service, user))


def _queue_context(service: HandoverService, user: StaffUser) -> dict:
    return {
        "waiting": service.queue_entries(),
        "mine": service.held_by(user),
        "who": queue_label,
        "oslo": ZoneInfo(service.settings.handover_timezone),
    }


@router.post("/presence", dependencies=Csrf)
def set_presence(
    request: Request, user: AdvisorUser, available: FormText = ""
) -> Response:
    """Become available for chats, or away."""
    _service(request).set_available(user, available == "1")
    return see_other("/admin/handover")


@router.post("/{handover_id}/claim", dependencies=Csrf)
def claim(request: Request, user: AdvisorUser, handover_id: int) -> Response:
    """Take a conversation from the queue; only one advisor ever gets it."""
    try:
        _service(request).claim(user, handover_id)
    except AlreadyClaimed:
        return error_page(request, 409, "handover.error.already_claimed")
    return see_other(f"/admin/handover/{handover_id}")


# --- Tickets -----------------------------------------------------------------


@router.get("/tickets", response_class=HTMLResponse)
def tickets_page(
    request: Request, user: AdvisorUser, closed: int = 0, done: int = 0
) -> HTMLResponse:
    """Messages members left, with the contact they chose to give."""
    service = _service(request)
    status = "closed" if closed else "open"
    return render(
        request,
        "admin/handover_tickets.html",
        tickets=service.tickets(status),
        closed=bool(closed),
        done=bool(done),
        days=request.app.state.settings.retention_days,
    )


@router.post("/tickets/{ticket_id}/close", dependencies=Csrf)
def close_ticket(request: Request, user: AdvisorUser, ticket_id: int) -> Response:
    """Mark a ticket as dealt with."""
    try:
        _service(request).close_ticket(user, ticket_id)
    except TicketNotFound:
        return error_page(request, 404, "handover.error.ticket_not_found")
    return see_other("/admin/handover/tickets?done=1")


# --- Opening hours -------------------------------------------------------------


@router.get("/hours", response_class=HTMLResponse)
def hours_page(request: Request, user: AdvisorUser, saved: int = 0) -> HTMLResponse:
    """The weekly schedule, the exceptions and the next two weeks."""
    return _hours(request, saved=bool(saved))


def _hours(
    request: Request,
    status_code: int = 200,
    *,
    saved: bool = False,
    error: str | None = None,
    error_values: dict | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    service = _service(request)
    hours = service.opening_hours()
    week = {
        str(day): ", ".join(i.label() for i in hours.week.get(day, ()))
        for day in range(7)
    }
    return render(
        request,
        "admin/handover_hours.html",
        status_code=status_code,
        week={**week, **(form or {})},
        exceptions=service.exceptions(),
        days=hours.days_ahead(service.clock(), 14),
        saved=saved,
        error=error,
        error_values=error_values or {},
    )


@router.post("/hours", dependencies=Csrf)
async def save_week(request: Request, user: AdvisorUser) -> Response:
    """Replace the weekly schedule from the seven day fields."""
    form = await request.form()
    fields = {
        str(day): str(form.get(f"day_{day}", ""))[:MAX_HOURS_FIELD] for day in range(7)
    }
    week: dict[int, list[Interval]] = {}
    for day, value in fields.items():
        try:
            week[int(day)] = parse_day(value)
        except InvalidOpeningHours as error:
            return _week_error(request, error, int(day), fields)
    try:
        await run_in_threadpool(_service(request).save_week, week, user.username)
    except InvalidOpeningHours as error:
        return _week_error(request, error, error.details.get("weekday"), fields)
    return see_other("/admin/handover/hours?saved=1")


def _week_error(
    request: Request,
    error: InvalidOpeningHours,
    weekday: object,
    fields: dict[str, str],
) -> HTMLResponse:
    """The hours page saying which weekday's hours are refused, and why."""
    day = t(f"handover.weekday.{weekday}") if weekday in range(7) else ""
    return _hours(
        request, 422, error=_hours_error_key(error),
        error_values={**error.details, "day": day}, form=fields,
    )  # fmt: skip


def _hours_error_key(error: InvalidOpeningHours) -> str:
    """The text for refused hours, from the details the hours model gives.

    A weekday without a limit is the schedule's overlap check; a limit
    without a weekday is the note of an exception.
    """
    details = error.details
    if details.get("end_of_day"):
        return "handover.error.end_of_day"
    if "weekday" in details:
        return f"handover.error.{'too_many' if 'limit' in details else 'overlap'}"
    if "limit" in details:
        return "handover.error.invalid_note"
    return "handover.error.invalid_hours"


def parse_day(value: str) -> list[Interval]:
    """Intervals from "09:00-15:00, 16:00-18:00"; empty means closed.

    Raises:
        InvalidOpeningHours: a part is not "HH:MM-HH:MM" or closes first.
    """
    intervals = []
    for part in (p for p in value.split(",") if p.strip()):
        match = _INTERVAL.match(part)
        if match is None:
            raise InvalidOpeningHours(f"{part!r} is not HH:MM-HH:MM.")
        # The hours hold times of day, so 23:59 is the latest closing time.
        if match.group(2).replace(".", ":") == "24:00":
            raise InvalidOpeningHours(
                f"{part!r} closes at 24:00; the latest closing time is 23:59.",
                details={"end_of_day": True},
            )
        intervals.append(Interval.parse(match.group(1), match.group(2)))
    return intervals


@router.post("/hours/exceptions", dependencies=Csrf)
def add_exception(
    request: Request,
    user: AdvisorUser,
    day: FormText = "",
    special: FormText = "",
    note: FormText = "",
) -> Response:
    """Close a date, or give it special hours."""
    try:
        when = date.fromisoformat(day.strip()[:10])
    except ValueError:
        return _hours(request, 422, error="handover.error.invalid_date")
    try:
        intervals = parse_day(special[:MAX_HOURS_FIELD])
        interval = intervals[0] if intervals else None
        _service(request).save_exception(when, interval, note, user.username)
    except InvalidOpeningHours as error:
        return _hours(
            request, 422, error=_hours_error_key(error),
            error_values={"day": when.isoformat()},
        )  # fmt: skip
    return see_other("/admin/handover/hours?saved=1")


@router.post("/hours/exceptions/{day}/delete", dependencies=Csrf)
def delete_exception(request: Request, user: AdvisorUser, day: str) -> Response:
    """Remove a date's exception."""
    try:
        when = date.fromisoformat(day[:10])
    except ValueError:
        return _hours(request, 422, error="handover.error.invalid_date")
    _service(request).delete_exception(when, user.username)
    return see_other("/admin/handover/hours?saved=1")


# --- One conversation -------------------------------------------------------


@router.get("/{handover_id}", response_class=HTMLResponse)
def chat_page(request: Request, user: AdvisorUser, handover_id: int) -> HTMLResponse:
    """The transcript, who the member is (only if shared) and the live chat."""
    try:
        seen = _service(request).conversation(user, handover_id)
    except NotFound:
        return error_page(request, 404, "handover.error.not_found")
    entry = seen.entry
    return render(
        request,
        "admin/handover_chat.html",
        entry=entry,
        held=entry.status == "active" and entry.advisor_name == user.username,
        transcript=seen.transcript,
        events=seen.events,
        last_seq=seen.events[-1].seq if seen.events else 0,
        event_text=_event_text,
        who=queue_label,
    )


@router.get("/{handover_id}/stream")
async def chat_stream(
    request: Request, user: AdvisorUser, handover_id: int, after: int = 0
) -> Response:
    """Server-sent events of one conversation for the advisor; heartbeats too."""
    service = _service(request)
    try:
        await run_in_threadpool(service.advisor_events, user, handover_id, 0)
    except NotFound:
        return error_page(request, 404, "handover.error.not_found")
    start = max(after, _last_event_id(request))
    settings = request.app.state.settings
    return StreamingResponse(
        _advisor_stream(request, service, user, handover_id, start, settings),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _last_event_id(request: Request) -> int:
    value = request.headers.get("last-event-id", "")
    return min(int(value), 2_000_000_000) if value.isdigit() else 0


async def _advisor_stream(
    request: Request,
    service: HandoverService,
    user: StaffUser,
    handover_id: int,
    after: int,
    settings: object,
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.handover_stream_seconds  # type: ignore[attr-defined]
    last: dict | None = None
    yield "retry: 1000\n\n"
    while True:
        entry, found = await run_in_threadpool(
            service.advisor_events, user, handover_id, after
        )
        for event in found:
            data = json.dumps(_event_json(event), ensure_ascii=False)
            yield f"id: {event.seq}\nevent: handover\ndata: {data}\n\n"
            after = event.seq
        status = {
            "status": entry.status,
            "member_typing": entry.member_typing,
            "held": entry.status == "active" and entry.advisor_name == user.username,
        }
        if status != last:
            yield f"event: status\ndata: {json.dumps(status)}\n\n"
            last = status
        if loop.time() >= deadline or await request.is_disconnected():
            return
        await asyncio.sleep(settings.handover_poll_seconds)  # type: ignore[attr-defined]


def _event_json(event: EventView) -> dict:
    return {
        "seq": event.seq,
        "kind": event.kind,
        "text": _event_text(event),
        "author": event.kind if event.kind in ("member", "advisor") else "system",
        "advisor": event.advisor_name,
    }


def _event_text(event: EventView) -> str:
    """What the advisor reads for an event: the message or a system line."""
    if event.kind in ("member", "advisor"):
        return event.text or ""
    if event.kind == "joined":
        return t("handover.chat.event_joined", name=event.advisor_name or "")
    if event.kind == "ended":
        by = "member" if event.text == "member" else "advisor"
        return t(f"handover.chat.event_ended_{by}")
    return t(f"handover.chat.event_{event.kind}")


@router.post("/{handover_id}/messages", dependencies=Csrf)
def send_message(
    request: Request, user: AdvisorUser, handover_id: int, text: FormText = ""
) -> Response:
    """The advisor writes to the member (fetch from the chat page)."""
    try:
        event = _service(request).advisor_send(user, handover_id, text)
    except HandoverConflict:
        return _json_error(409, "handover.error.conflict")
    except InvalidInput as error:
        key = "message_too_long" if "long" in error.code else "empty_message"
        return _json_error(422, f"handover.error.{key}")
    return JSONResponse(_event_json(event), status_code=201)


@router.post("/{handover_id}/typing", dependencies=Csrf)
def typing(request: Request, user: AdvisorUser, handover_id: int) -> Response:
    """The advisor is typing."""
    try:
        _service(request).advisor_typing(user, handover_id)
    except (HandoverConflict, NotFound):
        return _json_error(409, "handover.error.conflict")
    return Response(status_code=204)


def _json_error(status: int, key: str) -> JSONResponse:
    return JSONResponse({"error": {"message": t(key)}}, status_code=status)


@router.post("/{handover_id}/return", dependencies=Csrf)
def hand_back(request: Request, user: AdvisorUser, handover_id: int) -> Response:
    """Give the conversation back to the assistant."""
    return _finish(request, user, handover_id, back=True)


@router.post("/{handover_id}/end", dependencies=Csrf)
def end(request: Request, user: AdvisorUser, handover_id: int) -> Response:
    """End the conversation."""
    return _finish(request, user, handover_id, back=False)


def _finish(
    request: Request, user: StaffUser, handover_id: int, back: bool
) -> Response:
    service = _service(request)
    try:
        (service.hand_back if back else service.end)(user, handover_id)
    except VeiviserError:
        return error_page(request, 409, "handover.error.conflict")
    return see_other("/admin/handover")


def queue_label(entry: QueueEntry) -> str:
    """Who the member is, as far as the advisor may know."""
    if entry.identity is None:
        return t("handover.anonymous")
    return t(
        "handover.member_named",
        name=entry.identity.get("name", ""),
        member_id=entry.identity.get("member_id", ""),
    )


feature = AdminFeature(
    router=router,
    nav=(NavItem("/admin/handover", "nav.handover", (Role.ADVISOR,)),),
)
