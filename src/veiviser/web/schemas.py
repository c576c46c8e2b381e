"""Request and response bodies of the public API (Pydantic v2)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from veiviser.service import MessageView


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class MessageIn(_Input):
    """A member's message, or the payload of a button the member pressed."""

    text: str = Field(
        description="The message. Empty or over the limit is refused with 422.",
        examples=["Hva koster medlemskapet?"],
    )
    client_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description=(
            "The browser's id for this message. Sending again with the same id "
            "returns the stored reply instead of a second answer."
        ),
    )


class FeedbackIn(_Input):
    """A member's rating of one reply."""

    rating: Literal["up", "down"]
    comment: str | None = Field(
        default=None, description="Optional; personal data is masked before storage."
    )


class ButtonOut(BaseModel):
    """A button under a reply; send ``payload`` as the text when pressed."""

    label: str
    payload: str


class MessageOut(BaseModel):
    """One message of a conversation."""

    seq: int = Field(description="Sequence number within the conversation.")
    role: Literal["member", "assistant"]
    text: str | None = Field(
        description="The member's text as stored (personal data masked)."
    )
    html: str | None = Field(description="The reply as sanitised HTML.")
    outcome: (
        Literal["greeting", "answer", "clarify", "multi", "fallback", "handover"] | None
    )
    intent: str | None
    intents: list[str]
    confidence: float | None
    buttons: list[ButtonOut]
    created_at: datetime

    @classmethod
    def of(cls, view: MessageView) -> MessageOut:
        return cls(
            seq=view.seq,
            role=view.role,  # type: ignore[arg-type]
            text=view.text,
            html=view.html,
            outcome=view.outcome,  # type: ignore[arg-type]
            intent=view.intent,
            intents=list(view.intents),
            confidence=None if view.confidence is None else round(view.confidence, 4),
            buttons=[ButtonOut(label=b.label, payload=b.payload) for b in view.buttons],
            created_at=view.created_at,
        )


class LoginOut(BaseModel):
    """How the request's member token (header ``X-Member-Token``) fared.

    ``anonymous``: no token was sent. ``member``: the token is valid, and
    personal answers are given. ``failed``: the token was refused (expired,
    forged, wrong issuer or audience); the chat goes on anonymously.
    """

    status: Literal["anonymous", "member", "failed"] = "anonymous"


class ConversationOut(BaseModel):
    """A new conversation. Keep the token: it is shown only this once."""

    id: str = Field(description="128 random bits as 32 hex digits.")
    token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    messages: list[MessageOut]
    notice: str | None = Field(
        default=None,
        description="A short notice from the organisation to show above the "
        "chat (plain text), or null.",
    )
    login: LoginOut = Field(
        default_factory=LoginOut,
        description="Whether the request's member token was accepted.",
    )


class ReplyOut(BaseModel):
    """The assistant's reply to one message."""

    seq: int
    outcome: Literal["answer", "clarify", "multi", "fallback", "handover"]
    intent: str | None = Field(description="The intent answered, if one was.")
    intents: list[str] = Field(
        description="Intents answered (multi) or offered (clarify)."
    )
    confidence: float | None
    html: str
    buttons: list[ButtonOut]
    member: MessageOut = Field(description="The member's message as stored.")
    login: LoginOut = Field(
        default_factory=LoginOut,
        description="Whether the request's member token was accepted.",
    )


class HistoryOut(BaseModel):
    """A conversation's messages in order."""

    id: str
    messages: list[MessageOut]
    notice: str | None = Field(
        default=None,
        description="A short notice from the organisation to show above the "
        "chat (plain text), or null.",
    )
    login: LoginOut = Field(
        default_factory=LoginOut,
        description="Whether the request's member token was accepted.",
    )


class FeedbackOut(BaseModel):
    """Feedback was recorded."""

    seq: int
    rating: Literal["up", "down"]


class ErrorDetail(BaseModel):
    code: str
    message: str = Field(description="Norwegian text to show the member.")
    details: dict


class ErrorOut(BaseModel):
    """The one shape of every error."""

    error: ErrorDetail
