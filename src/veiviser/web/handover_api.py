"""The member's side of a handover under /api/v1: queue, live chat, message.

The live chat is a server-sent event stream read with ``fetch`` (so the
conversation token stays in a header, never in a URL). Every event carries
its per-conversation number as the SSE ``id``; a browser that reconnects
sends ``Last-Event-ID`` or ``?after=N`` and gets everything it missed, once
and in order. The stream ends after ``VEIVISER_HANDOVER_STREAM_SECONDS`` and
the browser reconnects, so no process holds a member for long.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from veiviser.handover.tickets import ContactForm
from veiviser.members.errors import DirectoryUnavailable
from veiviser.service import Assistant
from veiviser.service.handover import (
    Availability,
    EventView,
    HandoverService,
    HandoverStatus,
    MemberIdentity,
)
from veiviser.web.api import (
    Authorization,
    ConversationId,
    MemberToken,
    _known_shape,
    _token,
)
from veiviser.web.schemas import ErrorOut

_ERRORS = {
    status: {"model": ErrorOut} for status in (400, 401, 403, 404, 409, 422, 503)
}
# Sweeps (requeueing chats of silent advisors) run every this many polls.
SWEEP_EVERY_POLLS = 10

router = APIRouter(prefix="/api/v1", responses=_ERRORS, tags=["handover"])  # type: ignore[arg-type]

After = Annotated[int, Query(ge=0, le=2_000_000_000)]
IdentityResolver = Callable[[Request], MemberIdentity | None]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class HandoverIn(_Input):
    """The member asks for a person."""

    share_identity: bool = Field(
        default=False,
        description=(
            "A logged-in member agrees that the advisor sees who they are. "
            "Without it (or without a login) the advisor sees an anonymous chat."
        ),
    )


class LiveMessageIn(_Input):
    """The member's message to the advisor."""

    text: str = Field(description="Masked before it is stored, like any chat text.")
    client_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{8,64}$")


class TicketIn(_Input):
    """A message left for the advisors, with the contact the member chose."""

    contact: str = Field(description="Phone number or e-mail address to be reached on.")
    message: str = Field(description="What the member needs help with.")
    consent: bool = Field(
        description="Must be true: the member accepts the consent text."
    )
    name: str = Field(default="", description="Optional name.")


class DayOut(BaseModel):
    day: str
    hours: str = Field(description="e.g. 09:00–15:00; empty when closed.")
    holiday: str | None
    note: str


class AvailabilityOut(BaseModel):
    """Whether a person can take the chat now."""

    reason: Literal["open", "busy", "closed", "holiday", "exception"]
    live: bool
    next_opening: datetime | None
    holiday: str | None
    days: list[DayOut]

    @classmethod
    def of(cls, available: Availability) -> AvailabilityOut:
        return cls(
            reason=available.reason,  # type: ignore[arg-type]
            live=available.live,
            next_opening=available.next_opening,
            holiday=available.holiday,
            days=[
                DayOut(
                    day=day.day.isoformat(),
                    hours=day.label(),
                    holiday=day.holiday,
                    note=day.note,
                )
                for day in available.days
            ],
        )


class HandoverOut(BaseModel):
    """The member's handover: state, queue place, availability."""

    state: Literal["none", "queued", "active", "ended", "returned"]
    position: int = Field(
        description="Place in the queue (1 is next); 0 if not queued."
    )
    advisor_typing: bool
    last_seq: int = Field(description="Number of the newest live event.")
    identity_shared: bool
    identity_available: bool = Field(
        description="The member is logged in, so they may choose to share who they are."
    )
    availability: AvailabilityOut
    consent_text: str

    @classmethod
    def of(cls, status: HandoverStatus, identity: bool, consent: str) -> HandoverOut:
        return cls(
            state=status.state,  # type: ignore[arg-type]
            position=status.position,
            advisor_typing=status.advisor_typing,
            last_seq=status.last_seq,
            identity_shared=status.identity_shared,
            identity_available=identity,
            availability=AvailabilityOut.of(status.availability),
            consent_text=consent,
        )


class EventOut(BaseModel):
    """One live event: a message, or a change the member should see."""

    seq: int
    kind: Literal[
        "member", "advisor", "queued", "joined", "requeued", "returned", "ended"
    ]
    text: str | None
    advisor: str | None = Field(
        default=None,
        description=(
            "Always null: staff log-in names are not shown to members, and "
            "staff accounts have no display name yet."
        ),
    )
    after_message: int = Field(description="The chat message this follows.")
    created_at: datetime

    @classmethod
    def of(cls, event: EventView) -> EventOut:
        return cls(
            seq=event.seq,
            kind=event.kind,  # type: ignore[arg-type]
            text=event.text,
            # The stored name is the advisor's log-in name, which would tell
            # a member who to try passwords for; members read "En rådgiver".
            # Limitation: advisors are anonymous to members; a display name on
            # staff accounts would let the widget show a chosen name instead.
            after_message=event.message_seq,
            created_at=event.created_at,
        )


class EventsOut(BaseModel):
    events: list[EventOut]


class TicketOut(BaseModel):
    """The message was left; an advisor will make contact."""

    id: int


def _handover(request: Request) -> HandoverService:
    assistant: Assistant = request.app.state.assistant
    return assistant.handover


@dataclass(frozen=True)
class SharedIdentity:
    """What the advisor is shown of a member who agreed to it."""

    member_id: str
    display_name: str


def _identity(
    request: Request, member_token: str | None, *, with_name: bool = False
) -> MemberIdentity | None:
    """The member the request's login token proves, or None (anonymous).

    An operator's portal integration may instead set
    ``app.state.member_identity`` to a resolver of its own.
    """
    resolver: IdentityResolver | None = getattr(
        request.app.state, "member_identity", None
    )
    if resolver is not None:
        return resolver(request)
    chat = request.app.state.assistant.chat
    login = chat.identify(member_token)
    if login.status != "member" or login.identity is None:
        return None
    member_id = login.identity.member_id
    if not with_name:
        return SharedIdentity(member_id, "")
    return SharedIdentity(member_id, _member_name(chat, login))


def _member_name(chat: Any, login: Any) -> str:
    # The name comes from the member directory; without it the advisor
    # still sees the member number the member agreed to show.
    access = chat.personal.access
    if access is None:
        return ""
    try:
        record = access.lookup(login)
    except DirectoryUnavailable:
        return ""
    return f"{record.first_name} {record.last_name}".strip() if record else ""


def _consent_text(request: Request) -> str:
    assistant: Assistant = request.app.state.assistant
    runtime = assistant.models.current
    return runtime.view.texts.get("handover_ticket_consent") if runtime else ""


def _out(
    request: Request, status: HandoverStatus, member_token: str | None
) -> HandoverOut:
    known = _identity(request, member_token) is not None
    return HandoverOut.of(status, known, _consent_text(request))


@router.get("/conversations/{conversation_id}/handover", response_model=HandoverOut)
def handover_status(
    request: Request,
    conversation_id: ConversationId,
    authorization: Authorization = None,
    member_token: MemberToken = None,
) -> HandoverOut:
    """Whether a person can take the chat now, and the member's place if queued."""
    status = _handover(request).status(
        _known_shape(conversation_id), _token(authorization)
    )
    return _out(request, status, member_token)


@router.post("/conversations/{conversation_id}/handover", response_model=HandoverOut)
def request_handover(
    request: Request,
    conversation_id: ConversationId,
    body: HandoverIn | None = None,
    authorization: Authorization = None,
    member_token: MemberToken = None,
) -> HandoverOut:
    """Ask for a person. Queued when someone can take it; otherwise the
    status says why not, and the member may leave a message instead."""
    share = body.share_identity if body is not None else False
    status = _handover(request).request(
        _known_shape(conversation_id),
        _token(authorization),
        consent=share,
        identity=_identity(request, member_token, with_name=True) if share else None,
    )
    return _out(request, status, member_token)


@router.delete("/conversations/{conversation_id}/handover", response_model=HandoverOut)
def leave_handover(
    request: Request,
    conversation_id: ConversationId,
    authorization: Authorization = None,
    member_token: MemberToken = None,
) -> HandoverOut:
    """Leave the queue, or end the chat with the advisor."""
    status = _handover(request).leave(
        _known_shape(conversation_id), _token(authorization)
    )
    return _out(request, status, member_token)


@router.post(
    "/conversations/{conversation_id}/handover/messages",
    status_code=201,
    response_model=EventOut,
)
def send_live_message(
    request: Request,
    conversation_id: ConversationId,
    body: LiveMessageIn,
    authorization: Authorization = None,
) -> EventOut:
    """Write to the advisor (or to the advisor who will take the chat)."""
    event = _handover(request).send(
        _known_shape(conversation_id), _token(authorization), body.text, body.client_id
    )
    return EventOut.of(event)


@router.post("/conversations/{conversation_id}/handover/typing", status_code=204)
def member_typing(
    request: Request,
    conversation_id: ConversationId,
    authorization: Authorization = None,
) -> Response:
    """The member is typing; the advisor sees it for a few seconds."""
    _handover(request).member_typing(
        _known_shape(conversation_id), _token(authorization)
    )
    return Response(status_code=204)


@router.get(
    "/conversations/{conversation_id}/handover/events", response_model=EventsOut
)
def read_events(
    request: Request,
    conversation_id: ConversationId,
    after: After = 0,
    authorization: Authorization = None,
) -> EventsOut:
    """Live events numbered above ``after``, for clients that cannot stream."""
    found = _handover(request).events_after(
        _known_shape(conversation_id), _token(authorization), after
    )
    return EventsOut(events=[EventOut.of(event) for event in found])


@router.get(
    "/conversations/{conversation_id}/handover/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    request: Request,
    conversation_id: ConversationId,
    after: After = 0,
    authorization: Authorization = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-sent events: ``handover`` events with ids, ``status`` changes."""
    service = _handover(request)
    known = _known_shape(conversation_id)
    await run_in_threadpool(service.authorise, known, _token(authorization))
    start = max(after, _event_id(last_event_id))
    settings = request.app.state.settings
    events = _event_stream(
        request,
        service,
        known,
        start,
        settings.handover_stream_seconds,
        settings.handover_poll_seconds,
    )
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _event_id(value: str | None) -> int:
    if value is None or not value.strip().isdigit():
        return 0
    return min(int(value.strip()), 2_000_000_000)


async def _event_stream(
    request: Request,
    service: HandoverService,
    conversation_id: str,
    after: int,
    seconds: float,
    poll: float,
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    last_status: dict[str, Any] | None = None
    polls = 0
    # Limitation: the stream polls the database; PostgreSQL LISTEN/NOTIFY
    # would wake it at once. At 0.5 s a poll costs two indexed reads.
    yield "retry: 1000\n\n"
    while True:
        found = await run_in_threadpool(service.read_events, conversation_id, after)
        for event in found:
            data = EventOut.of(event).model_dump_json()
            yield f"id: {event.seq}\nevent: handover\ndata: {data}\n\n"
            after = event.seq
        status = await run_in_threadpool(service.stream_status, conversation_id)
        shown = {
            "state": status.state,
            "position": status.position,
            "advisor_typing": status.advisor_typing,
            "identity_shared": status.identity_shared,
        }
        if shown != last_status:
            yield f"event: status\ndata: {json.dumps(shown)}\n\n"
            last_status = shown
        polls += 1
        if polls % SWEEP_EVERY_POLLS == 0:
            await run_in_threadpool(service.sweep)
        if loop.time() >= deadline or await request.is_disconnected():
            return
        await asyncio.sleep(poll)


@router.post(
    "/conversations/{conversation_id}/handover/ticket",
    status_code=201,
    response_model=TicketOut,
)
def leave_message(
    request: Request,
    conversation_id: ConversationId,
    body: TicketIn,
    authorization: Authorization = None,
) -> TicketOut:
    """Leave a message and the contact to be reached on (with consent)."""
    form = ContactForm(
        contact=body.contact, message=body.message, consent=body.consent, name=body.name
    )
    ticket_id = _handover(request).leave_message(
        _known_shape(conversation_id), _token(authorization), form
    )
    return TicketOut(id=ticket_id)
