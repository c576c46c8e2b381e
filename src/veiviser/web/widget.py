"""The embeddable widget: its script and its configuration.

Both are public and read by pages on other origins (the union's own site),
so they carry ``Access-Control-Allow-Origin: *``; neither holds anything
private. Conversations themselves stay behind the API's CORS setting and
their tokens.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response

from veiviser.service import Assistant

WIDGET_DIR = Path(__file__).parent / "static" / "widget"
TEXTS_FILE = WIDGET_DIR / "texts.nb.json"
PUBLIC = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _script() -> bytes:
    return (WIDGET_DIR / "widget.js").read_bytes()


@lru_cache(maxsize=1)
def widget_texts() -> dict[str, str]:
    """Every text the widget shows, from its one Bokmål file."""
    return json.loads(TEXTS_FILE.read_text(encoding="utf-8"))


@router.api_route("/widget.js", methods=["GET", "HEAD"])
def widget_script() -> Response:
    """The widget: one script tag on any page."""
    return Response(
        _script(), media_type="text/javascript; charset=utf-8", headers=PUBLIC
    )


@router.get("/widget/config.json")
def widget_config(request: Request) -> Response:
    """Texts and settings the widget needs before the first message."""
    assistant: Assistant | None = request.app.state.assistant
    settings = request.app.state.settings
    runtime = assistant.models.current if assistant is not None else None
    config: dict[str, Any] = {
        "texts": widget_texts(),
        "assistant_name": runtime.view.texts.organisation.assistant_name
        if runtime is not None
        else "Veiviser",
        "retention_days": settings.retention_days,
        "max_chars": settings.max_message_chars,
    }
    body = json.dumps(config, ensure_ascii=False).encode("utf-8")
    return Response(body, media_type="application/json", headers=PUBLIC)
