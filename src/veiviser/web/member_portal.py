"""``/demo/min-side``: a fake member portal, served only in demo mode.

It shows how a union's real portal embeds the widget with a login: pick one
of the fictional demo members, and the page hands the widget a fresh signed
token whenever it asks for one. It signs anyone in without a password, so
``create_app`` includes this router only when ``VEIVISER_DEMO_MODE`` is on.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field

from veiviser.errors import NotFound
from veiviser.members.demo import (
    DEMO_ISSUER,
    DemoMember,
    demo_members,
    demo_secret,
    sign_demo_token,
)
from veiviser.service import Assistant
from veiviser.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"
TEXTS_FILE = TEMPLATES / "demo" / "texts_nb.yaml"
_templates = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
)

router = APIRouter(prefix="/demo/min-side", include_in_schema=False)


@cache
def portal_texts() -> dict[str, str]:
    """Every text of the demo portal, from its one Bokmål file."""
    data = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    return {key: str(value).strip() for key, value in data.items()}


class TokenIn(BaseModel):
    """Which demo member to sign in as."""

    model_config = ConfigDict(extra="forbid", strict=True)

    member: str = Field(max_length=128)


def _member(member_id: str | None) -> DemoMember | None:
    if member_id is None:
        return None
    return next((m for m in demo_members() if m.id == member_id), None)


@router.get("", response_class=HTMLResponse)
def portal_page(request: Request, medlem: str | None = None) -> HTMLResponse:
    """The portal: choose a demo member, then chat as them."""
    member = _member(medlem)
    html = _templates.get_template("demo/min_side.html").render(
        texts=portal_texts(),
        members=demo_members(),
        member=member,
        unknown=medlem is not None and member is None,
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.post("/token")
def portal_token(request: Request, body: TokenIn) -> JSONResponse:
    """A fresh login token for a demo member, as a real portal would sign it.

    Raises:
        NotFound: no demo member has that id.
    """
    if _member(body.member) is None:
        raise NotFound("No demo member has this id.", details={"member": "unknown"})
    settings: Settings = request.app.state.settings
    assistant: Assistant = request.app.state.assistant
    token = sign_demo_token(
        _signing_secret(settings, assistant),
        body.member,
        settings.member_token_audience,
        issuer=settings.member_token_issuer or DEMO_ISSUER,
    )
    return JSONResponse({"token": token}, headers={"Cache-Control": "no-store"})


def _signing_secret(settings: Settings, assistant: Assistant) -> str:
    # With an operator's own HS256 secret the demo signs with it; otherwise
    # with the demo key every process shares through the database.
    if settings.member_token_secret:
        return settings.member_token_secret
    return demo_secret(assistant.sessions)
