"""Revisions in the admin: an intent's history and rollback, the stale-copy
choice, and the audit log for administrators.

A save or archive from a stale copy of an intent ends here: the editor is
told who changed it and when, sees their change and the difference to their
own, and chooses to keep theirs, take the stored one, or merge by hand.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from veiviser.errors import NotFound
from veiviser.review.log import oslo_time
from veiviser.service import editing, revisions
from veiviser.web.admin.auth import Role, StaffUser, require_role, verify_csrf
from veiviser.web.admin.day_range import text_in_range
from veiviser.web.admin.intent_form import IntentFields
from veiviser.web.admin.pages import (
    AdminFeature,
    FormText,
    NavItem,
    error_page,
    render,
    see_other,
)
from veiviser.web.admin.studio import _intent_form, live_trainer

router = APIRouter(prefix="/admin", include_in_schema=False)

Administrator = Annotated[StaffUser, Depends(require_role(Role.ADMINISTRATOR))]
Editor = Annotated[StaffUser, Depends(require_role(Role.EDITOR))]
# Trainers change phrases, so they may read the history; only editors roll back.
Reader = Annotated[StaffUser, Depends(require_role(Role.EDITOR, Role.TRAINER))]
CSRF = [Depends(verify_csrf)]
AUDIT_PATH = "/admin/revisjoner"


def _sessions(request: Request) -> Any:
    return request.app.state.assistant.sessions


# --- One intent's history ---------------------------------------------------------


@router.get("/intents/{intent_id}/history", response_class=HTMLResponse)
def history_page(request: Request, user: Reader, intent_id: str) -> HTMLResponse:
    """Every recorded change of an intent, newest first, with its diff."""
    return _history(request, intent_id[:63])


def _history(
    request: Request, intent_id: str, status_code: int = 200, error: str | None = None
) -> HTMLResponse:
    sessions = _sessions(request)
    found = revisions.history(sessions, "intent", intent_id)
    try:
        current = editing.load_intent(sessions, intent_id)
    except NotFound:
        current = None
    if current is None and not found:
        return error_page(request, 404, "error.not_found")
    return render(
        request,
        "admin/studio/history.html",
        status_code=status_code,
        intent_id=intent_id,
        current=current,
        revisions=found,
        when=oslo_time,
        error=error,
    )


@router.post("/intents/{intent_id}/history/{revision_id}/restore", dependencies=CSRF)
def restore_revision(
    request: Request,
    user: Editor,
    intent_id: str,
    revision_id: int,
    version: FormText = "",
) -> Response:
    """Make the intent what it was after the revision; the model retrains."""
    expected = int(version) if version.isascii() and version.isdigit() else None
    try:
        saved = revisions.rollback_intent(
            _sessions(request), intent_id[:63], revision_id, user.username, expected
        )
    except NotFound:
        return _history(request, intent_id[:63], 404, "gone")
    except revisions.RevisionNotRestorable:
        return _history(request, intent_id, 409, "not_restorable")
    except editing.IntentInvalid:
        return _history(request, intent_id, 409, "invalid")
    except editing.EditConflict:
        return _history(request, intent_id, 409, "stale")
    live_trainer(request).request()
    return see_other(f"/admin/intents/{intent_id}?saved={saved.kb_revision}")


# --- A stale copy -------------------------------------------------------------------


def conflict_page(
    request: Request, mine: dict | None, error: editing.EditConflict
) -> HTMLResponse:
    """The choice after a save (``mine``) or an archive (None) from a stale copy."""
    sessions = _sessions(request)
    try:
        stored = editing.load_intent(sessions, error.intent_id)
    except NotFound:
        return error_page(request, 404, "error.not_found")
    theirs = stored.intent.model_dump(mode="json")
    started = revisions.intent_at_version(sessions, error.intent_id, error.expected)
    return render(
        request,
        "admin/studio/conflict.html",
        status_code=409,
        intent_id=error.intent_id,
        mine=mine,
        stored=theirs,
        version=stored.version,
        expected=error.expected,
        last=revisions.last_intent_change(sessions, error.intent_id),
        their_change=revisions.diff(started, theirs) if started else None,
        difference=revisions.diff(theirs, mine) if mine is not None else [],
        when=oslo_time,
    )


@router.post(
    "/intents/{intent_id}/merge", response_class=HTMLResponse, dependencies=CSRF
)
def merge_by_hand(
    request: Request,
    user: Editor,
    intent_id: str,
    form: IntentFields,
) -> HTMLResponse:
    """The editor with the editor's own text, at the stored version, beside
    the stored text: saving it is a normal save of the merged intent."""
    try:
        stored = editing.load_intent(_sessions(request), intent_id[:63])
    except NotFound:
        return error_page(request, 404, "error.not_found")
    theirs = stored.intent.model_dump(mode="json")
    mine = {**theirs, **form.values(stored.intent.id, stored.intent.personal_answer)}
    # Shown again in the form, not validated: long texts are cut, not refused.
    mine["title"] = mine["title"][:200]
    mine["answer"] = mine["answer"][:50_000]
    if mine["personal_answer"]:
        mine["personal_answer"] = mine["personal_answer"][:50_000]
    return _intent_form(
        request,
        mine,
        stored.version,
        problems={"version": "merge"},
        merge_from=stored.intent.model_dump(mode="json"),
    )


# --- The audit log --------------------------------------------------------------------


@router.get("/revisjoner", response_class=HTMLResponse)
def audit_log(
    request: Request,
    user: Administrator,
    actor: str = "",
    kind: str = "",
    q: str = "",
    since: str = "",
    until: str = "",
    page: str = "1",
) -> HTMLResponse:
    """Every recorded change, filtered by who, kind, object and period."""
    filters = {"actor": actor, "kind": kind, "q": q, "since": since, "until": until}
    shown = {key: value[: revisions.MAX_SEARCH_CHARS] for key, value in filters.items()}
    sessions = _sessions(request)
    if not (text_in_range(since) and text_in_range(until)):
        return _audit(request, sessions, shown, None, 422, "date_range")
    try:
        query = revisions.AuditQuery.parse(actor, kind, q, since, until, page[:10])
    except revisions.AuditQueryInvalid as error:
        return _audit(request, sessions, shown, None, 422, error.reason)
    return _audit(request, sessions, shown, revisions.search(sessions, query))


def _audit(
    request: Request,
    sessions: Any,
    filters: dict[str, str],
    found: revisions.AuditPage | None,
    status_code: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "admin/revisions.html",
        status_code=status_code,
        filters=filters,
        found=found,
        error=error,
        actors=revisions.actors(sessions),
        kinds=list(revisions.KINDS),
        types=sorted(set(revisions.KINDS.values())),
        when=oslo_time,
    )


feature = AdminFeature(
    router,
    nav=(NavItem(AUDIT_PATH, "nav.revisions", (Role.ADMINISTRATOR,)),),
)
