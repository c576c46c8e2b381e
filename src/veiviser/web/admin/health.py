"""Content care in the admin: intent health and conflict warnings while typing.

``/admin/innhold/helse`` shows the newest stored health figures (computed in
the background by :class:`~veiviser.service.health.HealthWorker` after edits)
and says "beregnes …" while newer ones are on their way.
``/admin/innhold/advarsler`` answers the studio's phrase fields, as the
editor types, with a fragment of conflict warnings.
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from veiviser.content import KnowledgeBase
from veiviser.service import Assistant, editing
from veiviser.service.conflicts import MAX_CHECKED, phrase_conflicts, split_phrases
from veiviser.service.health import MIN_PHRASES, HealthWorker, is_stale, read_health
from veiviser.service.runtime import encoder_label
from veiviser.store.knowledge import kb_revision
from veiviser.web.admin.auth import Role, StaffUser, require_role, verify_csrf
from veiviser.web.admin.pages import (
    AdminFeature,
    FormText,
    NavItem,
    render,
    settings_of,
)

router = APIRouter(prefix="/admin/innhold", include_in_schema=False)

Reader = Annotated[
    StaffUser, Depends(require_role(Role.EDITOR, Role.TRAINER, Role.ANALYST))
]
PhraseEditor = Annotated[StaffUser, Depends(require_role(Role.EDITOR, Role.TRAINER))]
CSRF = [Depends(verify_csrf)]
# Seconds the worker waits after an edit, so a burst of edits computes once.
DEBOUNCE_SECONDS = 5.0
MAX_TYPED_CHARS = 100_000
POLL_MS = 3000


def _assistant(request: Request) -> Assistant:
    return request.app.state.assistant


# Limitation: a computation in flight when the process stops is lost (the
# thread ends when the database is closed); the next page view or edit in any
# process computes it again. A result is stored only whole, so none is torn.
def health_worker(request: Request) -> HealthWorker:
    """This process's health worker, made on first use."""
    worker = getattr(request.app.state, "health_worker", None)
    if worker is None:
        assistant = _assistant(request)
        worker = HealthWorker(
            assistant.sessions,
            assistant.encoder,
            assistant.settings.seed,
            debounce=getattr(request.app.state, "health_debounce", DEBOUNCE_SECONDS),
        )
        request.app.state.health_worker = worker
    return worker


def request_health(request: Request) -> None:
    """Ask for fresh health figures after an edit; never blocks."""
    health_worker(request).request()


# --- Health page ------------------------------------------------------------------


@router.get("/helse", response_class=HTMLResponse)
def health_page(request: Request, user: Reader) -> HTMLResponse:
    """Per-intent precision and recall, confused pairs and phrase problems."""
    assistant = _assistant(request)
    label = encoder_label(assistant.encoder)
    if is_stale(assistant.sessions, label):
        # Covers changes made outside the studio (CLI import, another process
        # that stopped before it computed).
        request_health(request)
    view = read_health(assistant.sessions, label)
    fragment = request.headers.get("x-admin-fragment") == "1"
    return render(
        request,
        "admin/health_results.html" if fragment else "admin/health.html",
        view=view,
        names=_names(assistant),
        computed=_local(request, view.computed_at),
        min_phrases=MIN_PHRASES,
        poll_ms=POLL_MS,
    )


def _names(assistant: Assistant) -> dict[str, dict[str, Any]]:
    kb = editing.knowledge_base(assistant.sessions)
    return {i.id: {"title": i.title, "status": i.status} for i in kb.intents}


def _local(request: Request, moment: Any) -> str | None:
    if moment is None:
        return None
    zone = ZoneInfo(settings_of(request).notice_timezone)
    return moment.astimezone(zone).strftime("%d.%m.%Y %H:%M")


# --- Warnings while typing ---------------------------------------------------------


@router.post("/advarsler", response_class=HTMLResponse, dependencies=CSRF)
def warnings(
    request: Request,
    user: PhraseEditor,
    phrases: FormText = "",
    intent_id: FormText = "",
) -> HTMLResponse:
    """Conflict warnings for typed or pasted phrases (one per line)."""
    assistant = _assistant(request)
    lines = split_phrases(phrases[:MAX_TYPED_CHARS])
    runtime = assistant.models.current
    kb = _newest_kb(assistant) if lines else None
    found = (
        phrase_conflicts(
            lines,
            intent_id.strip()[:63],
            kb,
            runtime.model if runtime is not None else None,
        )
        if kb is not None
        else []
    )
    return render(
        request,
        "admin/studio/_warnings.html",
        warnings=found,
        cut=len(lines) > MAX_CHECKED,
        limit=MAX_CHECKED,
        checked=bool(lines),
    )


def _newest_kb(assistant: Assistant) -> KnowledgeBase:
    """The stored knowledge base, from the model in use when it is current.

    A phrase saved a second ago must count, but reading a large base for
    every keystroke is wasteful: the runtime's copy is used whenever its
    revision is the stored one.
    """
    runtime = assistant.models.current
    with assistant.sessions() as session:
        revision = kb_revision(session)
    if runtime is not None and runtime.kb_revision == revision:
        return runtime.view.kb
    return editing.knowledge_base(assistant.sessions)


feature = AdminFeature(
    router,
    nav=(
        NavItem(
            "/admin/innhold/helse",
            "nav.health",
            (Role.EDITOR, Role.TRAINER, Role.ANALYST),
        ),
    ),
)
