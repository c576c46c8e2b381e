"""The regression guard in the admin: must-keep-working questions and checks.

Before saving phrases, a new intent or an archive, the studio asks
:func:`foresee_phrases`, :func:`foresee_intent` or :func:`foresee_archive`;
when guarded questions would break it shows :func:`confirm_page` instead of
saving ("Lagre likevel" posts the form again with ``guard_confirmed=1``,
"Avbryt" with ``guard_cancel=1``). Any other save calls :func:`snapshot`
before and :func:`after_save` after it; the intent page then polls
``/admin/innhold/vakt/sjekk?revision=N``, which evaluates the guard questions
as soon as a model of revision N is in use in this process and shows what
broke, with "keep" and "undo" (see :mod:`veiviser.service.guard` for the
design and its limitations).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from veiviser.content import Intent
from veiviser.content.model import MAX_PHRASE_CHARS
from veiviser.errors import NotFound, VeiviserError
from veiviser.nlu import NluModel
from veiviser.service import Assistant, editing, guard
from veiviser.service.runtime import Runtime
from veiviser.service.training import provisional_model
from veiviser.web.admin.auth import Role, StaffUser, require_role, verify_csrf
from veiviser.web.admin.health import request_health
from veiviser.web.admin.pages import (
    AdminFeature,
    FormText,
    NavItem,
    error_page,
    render,
    see_other,
)

log = logging.getLogger(__name__)

router = APIRouter(prefix="/admin/innhold/vakt", include_in_schema=False)

Editor = Annotated[StaffUser, Depends(require_role(Role.EDITOR))]
PhraseEditor = Annotated[StaffUser, Depends(require_role(Role.EDITOR, Role.TRAINER))]
CSRF = [Depends(verify_csrf)]
LIST_PATH = "/admin/innhold/vakt"
MAX_REVISION = 2_000_000_000
CONFIRMED, CANCEL = "guard_confirmed", "guard_cancel"


def _assistant(request: Request) -> Assistant:
    return request.app.state.assistant


# --- Hooks the studio calls ---


def snapshot(request: Request, intent_id: str) -> dict | None:
    """The intent as stored now (to undo to), or None when it does not exist."""
    try:
        found = editing.load_intent(_assistant(request).sessions, intent_id)
    except NotFound:
        return None
    return found.intent.model_dump(mode="json")


def record(
    request: Request,
    revision: int,
    intent_id: str,
    action: str,
    before: dict | None,
    actor: StaffUser,
) -> None:
    """Have the guard check the save that produced ``revision``."""
    sessions = _assistant(request).sessions
    try:
        version: int | None = editing.load_intent(sessions, intent_id).version
    except NotFound:
        version = None  # archived: the undo restores it first
    guard.record_edit(
        sessions, revision, intent_id, action, before, version, actor.username
    )


def after_save(
    request: Request,
    foresight: guard.Foresight | None,
    revision: int,
    intent_id: str,
    action: str,
    before: dict | None,
    actor: StaffUser,
) -> None:
    """Store what a change judged beforehand did, else have it checked after."""
    if foresight is not None:
        guard.settle(_assistant(request).sessions, foresight.outcomes)
    else:
        record(request, revision, intent_id, action, before, actor)


def foresee_phrases(
    request: Request, intent_id: str, texts: Sequence[str]
) -> guard.Foresight | None:
    """What adding ``texts`` to an intent would break, or None if not judged."""
    if any(len(text.strip()) > MAX_PHRASE_CHARS for text in texts):
        return None  # the save refuses it; no point analysing huge text first
    sessions = _assistant(request).sessions

    def candidate(runtime: Runtime) -> NluModel:
        kb = guard.with_phrases(editing.knowledge_base(sessions), intent_id, texts)
        return provisional_model(runtime, kb)

    return _foresee(request, candidate)


def foresee_intent(request: Request, intent: Intent) -> guard.Foresight | None:
    """What saving a new ``intent`` would break, or None if not judged."""
    sessions = _assistant(request).sessions

    def candidate(runtime: Runtime) -> NluModel:
        kb = guard.with_intent(editing.knowledge_base(sessions), intent)
        return provisional_model(runtime, kb)

    return _foresee(request, candidate)


def foresee_archive(request: Request, intent_id: str) -> guard.Foresight | None:
    """What archiving an intent would break, or None if not judged."""
    return _foresee(
        request, lambda runtime: guard.without_intent(runtime.model, intent_id)
    )


def _foresee(
    request: Request, candidate: Callable[[Runtime], NluModel]
) -> guard.Foresight | None:
    assistant = _assistant(request)
    runtime = assistant.models.current
    if runtime is None or not guard.has_questions(assistant.sessions):
        return None
    try:
        return guard.foresee(assistant.sessions, runtime.model, candidate(runtime))
    except (VeiviserError, ValueError, ArithmeticError) as error:
        # The trainer would train fully here too; the check then runs after.
        log.warning("guard cannot judge the change beforehand: %s", error)
        return None


def confirm_page(
    request: Request,
    action: str,
    fields: Sequence[tuple[str, str]],
    broken: list[dict],
) -> HTMLResponse:
    """Which guarded questions the change would break, with save anyway or cancel.

    Args:
        action: the path the form posts to (again).
        fields: the form's fields, sent again by both buttons so nothing
            the editor typed is lost.
        broken: as :attr:`guard.Foresight.broken`.
    """
    kb = editing.knowledge_base(_assistant(request).sessions)
    return render(
        request,
        "admin/guard_confirm.html",
        action=action,
        fields=list(fields),
        broken=broken,
        titles=guard.titles(kb),
        confirmed=CONFIRMED,
        cancel=CANCEL,
    )


# --- The question list ---


@router.get("", response_class=HTMLResponse)
def questions_page(request: Request, user: Editor, added: int = 0) -> HTMLResponse:
    """The guarded questions, their expected intents and how they fare now."""
    return _list(request, added=bool(added))


def _list(
    request: Request,
    status_code: int = 200,
    error: str | None = None,
    text: str = "",
    expected: str = "",
    added: bool = False,
) -> HTMLResponse:
    sessions = _assistant(request).sessions
    kb = editing.knowledge_base(sessions)
    return render(
        request,
        "admin/guard.html",
        status_code=status_code,
        questions=guard.list_questions(sessions),
        intents=[(i.id, i.title) for i in kb.intents],
        titles=guard.titles(kb),
        error=error,
        text=text,
        expected=expected,
        added=added,
    )


@router.post("", dependencies=CSRF)
def add_question(
    request: Request,
    user: Editor,
    text: FormText = "",
    expected: FormText = "",
) -> Response:
    """Guard a question (its personal data masked) with its expected intent."""
    assistant = _assistant(request)
    runtime = assistant.models.current
    try:
        guard.add_question(
            assistant.sessions,
            text,
            expected.strip()[:63],
            user.username,
            runtime.model if runtime is not None else None,
        )
    except guard.GuardInvalid as error:
        return _list(request, 422, error.reason, text[:2000], expected[:63])
    return see_other(f"{LIST_PATH}?added=1")


@router.post("/{question_id}/fjern", dependencies=CSRF)
def remove_question(request: Request, user: Editor, question_id: int) -> Response:
    """Stop guarding a question."""
    try:
        guard.remove_question(_assistant(request).sessions, question_id)
    except NotFound:
        return error_page(request, 404, "error.not_found")
    return see_other(LIST_PATH)


# --- Checking a save ---


@router.get("/sjekk", response_class=HTMLResponse)
def check_status(request: Request, user: PhraseEditor, revision: int = 0) -> Response:
    """The guard's verdict on the save of ``revision``; polls until there is one."""
    assistant = _assistant(request)
    revision = max(0, min(revision, MAX_REVISION))
    check = guard.check_for_revision(assistant.sessions, revision)
    runtime = assistant.models.current
    if check is not None and check.status == guard.PENDING and runtime is not None:
        settled = guard.can_judge(assistant.sessions, runtime.model_version_id)
        if runtime.kb_revision >= revision and settled:
            guard.run_pending(
                assistant.sessions,
                runtime.model,
                runtime.model_version_id,
                runtime.kb_revision,
            )
            check = guard.check_for_revision(assistant.sessions, revision)
    return render(
        request,
        "admin/guard_check.html",
        check=check,
        revision=revision,
        titles=guard.titles(editing.knowledge_base(assistant.sessions)),
    )


@router.post("/sjekk/{check_id}/behold", dependencies=CSRF)
def keep(request: Request, user: PhraseEditor, check_id: int) -> Response:
    """Keep a change although guarded questions broke."""
    return _decide(request, user, check_id, keep=True)


@router.post("/sjekk/{check_id}/angre", dependencies=CSRF)
def undo(request: Request, user: PhraseEditor, check_id: int) -> Response:
    """Undo a change that broke guarded questions."""
    return _decide(request, user, check_id, keep=False)


def _decide(request: Request, user: StaffUser, check_id: int, keep: bool) -> Response:
    sessions = _assistant(request).sessions
    try:
        check = guard.load_check(sessions, check_id)
        saved = guard.decide(sessions, check_id, keep, user.username)
    except NotFound:
        return error_page(request, 404, "error.not_found")
    except guard.UndoRefused:
        return error_page(request, 409, "guard.undo_refused")
    if saved is None:
        return see_other(f"/admin/intents/{check.intent_id}")
    _changed(request)
    if check.action == "create":
        return see_other("/admin/archive")
    return see_other(f"/admin/intents/{check.intent_id}?saved={saved.kb_revision}")


def _changed(request: Request) -> None:
    # The studio imports this module for its hooks, so its trainer is looked
    # up here at call time rather than imported at the top.
    from veiviser.web.admin import studio

    studio.live_trainer(request).request()
    request_health(request)


feature = AdminFeature(
    router,
    nav=(NavItem(LIST_PATH, "nav.guard", (Role.EDITOR,)),),
)
