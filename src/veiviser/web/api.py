"""The public API under /api/v1: conversations, messages, feedback."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response

from veiviser.service import Assistant, ChatService
from veiviser.service.editing import current_notice
from veiviser.service.errors import ConversationNotFound
from veiviser.web.admin.studio import live_trainer
from veiviser.web.schemas import (
    ConversationOut,
    ErrorOut,
    FeedbackIn,
    FeedbackOut,
    HistoryOut,
    LoginOut,
    MessageIn,
    MessageOut,
    ReplyOut,
)

_CONVERSATION_ID = re.compile(r"^[0-9a-f]{32}$")
_ERRORS = {
    status: {"model": ErrorOut} for status in (400, 401, 403, 404, 413, 422, 503)
}

router = APIRouter(prefix="/api/v1", responses=_ERRORS)  # type: ignore[arg-type]

ConversationId = Annotated[
    str, Path(description="The id returned when the conversation was opened.")
]
Authorization = Annotated[
    str | None,
    Header(description="`Bearer <token>` with the conversation's token."),
]
Seq = Annotated[int, Path(ge=1, le=2_000_000_000)]
MEMBER_TOKEN_HEADER = "X-Member-Token"
MemberToken = Annotated[
    str | None,
    Header(
        alias=MEMBER_TOKEN_HEADER,
        description="The member portal's signed login token (JWT), for personal "
        "answers. Checked on every request; a refused token means the chat goes "
        "on anonymously and `login.status` is `failed`.",
    ),
]


def _chat(request: Request) -> ChatService:
    assistant: Assistant = request.app.state.assistant
    return assistant.chat


def _token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _notice(request: Request) -> str | None:
    assistant: Assistant = request.app.state.assistant
    return current_notice(assistant.sessions)


def _known_shape(conversation_id: str) -> str:
    # Ids are random hex; anything else cannot exist, so no query is needed.
    if not _CONVERSATION_ID.match(conversation_id):
        raise ConversationNotFound("No conversation has this id.")
    return conversation_id


# Opening conversations is rate-limited per client with the rest of /api/
# (web/ratelimit.py).
@router.post("/conversations", status_code=201, response_model=ConversationOut)
def open_conversation(
    request: Request,
    response: Response,
    x_visitor_id: Annotated[
        str | None,
        Header(
            description="The browser's random visitor id (optional); stored only "
            "as a keyed hash, to count returning visitors."
        ),
    ] = None,
) -> ConversationOut:
    """Open a conversation; the reply holds its id, token and greeting."""
    # The member token (X-Member-Token) is read here as on every request, so
    # the widget can say at once whether the login worked.
    login = _chat(request).identify(request.headers.get(MEMBER_TOKEN_HEADER))
    new = _chat(request).start(visitor_id=x_visitor_id)
    response.headers["Location"] = f"/api/v1/conversations/{new.id}"
    response.headers["Cache-Control"] = "no-store"
    return ConversationOut(
        id=new.id,
        token=new.token,
        messages=[MessageOut.of(new.greeting)],
        notice=_notice(request),
        login=LoginOut(status=login.status),
    )


@router.post("/conversations/{conversation_id}/messages", response_model=ReplyOut)
def send_message(
    request: Request,
    conversation_id: ConversationId,
    body: MessageIn,
    authorization: Authorization = None,
    member_token: MemberToken = None,
) -> ReplyOut:
    """Send the member's message (or a button's payload); get the reply."""
    chat = _chat(request)
    login = chat.identify(member_token)
    exchange = chat.send(
        _known_shape(conversation_id),
        _token(authorization),
        body.text,
        body.client_id,
        login=login,
    )
    reply = exchange.reply
    return ReplyOut(
        seq=reply.seq,
        outcome=reply.outcome,  # type: ignore[arg-type]
        intent=reply.intent,
        intents=list(reply.intents),
        confidence=None if reply.confidence is None else round(reply.confidence, 4),
        html=reply.html or "",
        buttons=MessageOut.of(reply).buttons,
        member=MessageOut.of(exchange.member),
        login=LoginOut(status=login.status),
    )


@router.delete("/conversations/{conversation_id}", status_code=204)
def delete_conversation(
    request: Request,
    conversation_id: ConversationId,
    authorization: Authorization = None,
) -> Response:
    """Delete the conversation and everything stored with it (the member's right)."""
    erased = _chat(request).delete(_known_shape(conversation_id), _token(authorization))
    if erased.changed_knowledge:
        # Phrases learnt from the conversation went with it: retrain.
        live_trainer(request).request()
    return Response(status_code=204)


@router.get("/conversations/{conversation_id}/messages", response_model=HistoryOut)
def read_history(
    request: Request,
    conversation_id: ConversationId,
    authorization: Authorization = None,
    after: Annotated[int, Query(ge=0, le=2_000_000_000)] = 0,
    member_token: MemberToken = None,
) -> HistoryOut:
    """The conversation's messages in order (those after ``after`` only)."""
    chat = _chat(request)
    login = chat.identify(member_token)
    messages = chat.history(
        _known_shape(conversation_id), _token(authorization), after, login=login
    )
    return HistoryOut(
        id=conversation_id,
        messages=[MessageOut.of(m) for m in messages],
        notice=_notice(request),
        login=LoginOut(status=login.status),
    )


@router.post(
    "/conversations/{conversation_id}/messages/{seq}/feedback",
    status_code=201,
    response_model=FeedbackOut,
)
def give_feedback(
    request: Request,
    conversation_id: ConversationId,
    seq: Seq,
    body: FeedbackIn,
    authorization: Authorization = None,
) -> FeedbackOut:
    """Rate one reply up or down, with an optional comment."""
    _chat(request).feedback(
        _known_shape(conversation_id),
        _token(authorization),
        seq,
        body.rating,
        body.comment,
    )
    return FeedbackOut(seq=seq, rating=body.rating)
