"""The review queue, its one-click fixes, tasks, and erasure on request.

Trainers, editors and administrators work the queue; erasing a conversation
is for administrators only. Every fix redirects back to the queue with a
short notice (POST, then GET), and the "fixed in the last day" section polls
until the new model is in use and shows what the messages get now.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from veiviser.errors import NotFound
from veiviser.review import cache
from veiviser.review import tasks as task_store
from veiviser.review.clustering import THRESHOLDS
from veiviser.review.log import oslo_time
from veiviser.review.queue import select_queue
from veiviser.service import editing, staff
from veiviser.service.assistant import Assistant
from veiviser.service.review import (
    FixOutcome,
    ReviewInvalid,
    ReviewService,
    vector_kind,
)
from veiviser.service.staff import Role, StaffUser
from veiviser.web.admin.auth import require_role, verify_csrf
from veiviser.web.admin.pages import AdminFeature, NavItem, render, see_other
from veiviser.web.admin.studio import live_trainer
from veiviser.web.admin.texts import t

ROLES = (Role.EDITOR, Role.TRAINER)
router = APIRouter(prefix="/admin", include_in_schema=False)
Reviewer = Annotated[StaffUser, Depends(require_role(*ROLES))]
Administrator = Annotated[StaffUser, Depends(require_role(Role.ADMINISTRATOR))]
QUEUE = "/admin/review"
TASKS = "/admin/tasks"
ERASE = "/admin/erase"
OK_KEYS = ("added", "new_intent", "out_of_scope", "dismissed", "task")
ERROR_KEYS = (
    "no_messages",
    "too_many",
    "gone",
    "unusable",
    "intent_missing",
    "intent_unknown",
    "intent_invalid",
    "note_long",
    "assignee",
    "task_missing",
)


def _service(request: Request) -> ReviewService:
    assistant: Assistant = request.app.state.assistant
    return ReviewService(assistant)


def _fragment(request: Request) -> bool:
    return request.headers.get("x-admin-fragment") == "1"


# --- The queue --------------------------------------------------------------


@router.get("/review", response_class=HTMLResponse)
async def queue_page(request: Request, user: Reviewer) -> HTMLResponse:
    """The queue in clusters, the fix forms, and what was fixed lately."""
    service = _service(request)
    view = await run_in_threadpool(service.queue, user)
    fixes = await run_in_threadpool(service.recent_fixes)
    intents = await run_in_threadpool(editing.list_intents, service.sessions)
    colleagues = await run_in_threadpool(staff.list_accounts, service.sessions)
    return render(
        request,
        "admin/review.html",
        when=oslo_time,
        view=view,
        fixes=fixes,
        intents=intents,
        colleagues=[c for c in colleagues if c.active],
        notice=_notice(request),
    )


def _notice(request: Request) -> dict[str, object] | None:
    """The result of the last fix, from the redirect's query (known keys only)."""
    query = request.query_params
    ok, error = query.get("ok"), query.get("error")
    if ok in OK_KEYS:
        return {
            "kind": "ok",
            "key": f"review.ok.{ok}",
            "n": _count(query.get("n")),
            "intent": (query.get("intent") or "")[:63],
            "duplicates": _count(query.get("dup")),
            "skipped": _count(query.get("skip")),
        }
    if error in ERROR_KEYS:
        return {"kind": "error", "key": f"review.error.{error}"}
    return None


def _count(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 7 else 0


@router.get("/review/fixes", response_class=HTMLResponse)
async def fixes_fragment(request: Request, user: Reviewer) -> HTMLResponse:
    """The "fixed lately" section alone (polled while a model trains)."""
    fixes = await run_in_threadpool(_service(request).recent_fixes)
    return render(request, "admin/review_fixes.html", fixes=fixes, when=oslo_time)


@router.get("/review/status", response_class=HTMLResponse)
async def clusters_status(request: Request, user: Reviewer) -> HTMLResponse:
    """Whether the clusters for the current queue are ready (polled)."""
    ready = await run_in_threadpool(_clusters_ready, _service(request))
    return render(request, "admin/review_status.html", ready=ready, when=oslo_time)


def _clusters_ready(service: ReviewService) -> bool:
    kind = vector_kind(service.assistant.models.require())
    with service.sessions() as session:
        ids = [item.message_id for item in select_queue(session)]
        key = cache.cache_key(ids, kind, THRESHOLDS[kind])
        return cache.ready_clusters(session, key) is not None


# --- Fixes ------------------------------------------------------------------


def _message_ids(form: FormData) -> list[int]:
    ids = []
    for value in form.getlist("message_id"):
        if isinstance(value, str) and value.isdigit() and len(value) < 19:
            ids.append(int(value))
    return ids


def _field(form: FormData, name: str, limit: int = 2000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _after_fix(request: Request, outcome: FixOutcome) -> Response:
    if outcome.needs_training:
        live_trainer(request).request()
    query = {
        "ok": outcome.action,
        "n": outcome.added if outcome.action != "dismissed" else outcome.messages,
        "intent": outcome.intent_id or "",
        "dup": outcome.duplicates,
        "skip": outcome.skipped,
    }
    return see_other(f"{QUEUE}?{urlencode(query)}#fixes")


def _failed(reason: str) -> Response:
    return see_other(f"{QUEUE}?{urlencode({'error': reason})}")


@router.post("/review/add", dependencies=[Depends(verify_csrf)])
async def add_to_intent(request: Request, user: Reviewer) -> Response:
    """Add the chosen messages to an intent as training phrases."""
    form = await request.form()
    intent_id = _field(form, "intent_id", 63)
    if not intent_id:
        return _failed("intent_missing")
    service = _service(request)
    try:
        outcome = await run_in_threadpool(
            service.add_to_intent, _message_ids(form), intent_id, user
        )
    except ReviewInvalid as error:
        return _failed(error.reason)
    except NotFound:
        return _failed("intent_unknown")
    except editing.IntentInvalid:
        return _failed("unusable")
    return _after_fix(request, outcome)


@router.post("/review/new-intent", dependencies=[Depends(verify_csrf)])
async def new_intent(request: Request, user: Reviewer) -> Response:
    """Create a draft intent from the chosen messages."""
    form = await request.form()
    service = _service(request)
    try:
        outcome = await run_in_threadpool(
            service.create_intent,
            _message_ids(form),
            _field(form, "new_id", 100),
            _field(form, "new_title", 300),
            t("review.placeholder_answer"),
            user,
        )
    except ReviewInvalid as error:
        return _failed(error.reason)
    except editing.IntentInvalid:
        return _failed("intent_invalid")
    return _after_fix(request, outcome)


@router.post("/review/out-of-scope", dependencies=[Depends(verify_csrf)])
async def out_of_scope(request: Request, user: Reviewer) -> Response:
    """Keep the chosen messages as examples of what to decline."""
    form = await request.form()
    try:
        outcome = await run_in_threadpool(
            _service(request).mark_out_of_scope, _message_ids(form), user
        )
    except ReviewInvalid as error:
        return _failed(error.reason)
    return _after_fix(request, outcome)


@router.post("/review/dismiss", dependencies=[Depends(verify_csrf)])
async def dismiss(request: Request, user: Reviewer) -> Response:
    """Take the chosen messages out of the queue."""
    form = await request.form()
    try:
        outcome = await run_in_threadpool(
            _service(request).dismiss, _message_ids(form), user
        )
    except ReviewInvalid as error:
        return _failed(error.reason)
    return _after_fix(request, outcome)


# --- Tasks ------------------------------------------------------------------


@router.post("/review/tasks", dependencies=[Depends(verify_csrf)])
async def create_task(request: Request, user: Reviewer) -> Response:
    """Hand the chosen messages to a colleague with a note."""
    form = await request.form()
    assignee = _field(form, "assignee", 19)
    ids = _message_ids(form)
    if not ids:
        return _failed("no_messages")
    if not assignee.isdigit():
        return _failed("assignee")
    service = _service(request)

    def create() -> None:
        with service.sessions.begin() as session:
            task_store.create_task(
                session, user.id, int(assignee), ids, _field(form, "note", 5000)
            )

    try:
        await run_in_threadpool(create)
    except task_store.TaskInvalid as error:
        return _failed(error.reason if error.reason in ERROR_KEYS else "assignee")
    return see_other(f"{QUEUE}?ok=task")


@router.get("/tasks", response_class=HTMLResponse)
async def tasks_page(
    request: Request, user: Reviewer, show: str = "mine", status: str = ""
) -> HTMLResponse:
    """My tasks (or everyone's), open first: the list for the follow-up meeting."""
    service = _service(request)
    mine = show != "all"

    def read() -> list[task_store.TaskView]:
        with service.sessions() as session:
            return task_store.list_tasks(
                session, user.id if mine else None, status or None
            )

    tasks = await run_in_threadpool(read)
    return render(
        request,
        "admin/tasks.html",
        when=oslo_time,
        tasks=tasks,
        mine=mine,
        status=status if status in task_store.STATUSES else "",
        notice=_notice(request),
    )


@router.post("/tasks/{task_id}/status", dependencies=[Depends(verify_csrf)])
async def task_status(request: Request, user: Reviewer, task_id: int) -> Response:
    """Mark a task done, or open again."""
    form = await request.form()
    status = _field(form, "status", 10)
    service = _service(request)

    def change() -> None:
        with service.sessions.begin() as session:
            task_store.set_status(session, task_id, status)

    back = "all" if _field(form, "show", 10) == "all" else "mine"
    try:
        await run_in_threadpool(change)
    except NotFound:
        return see_other(f"{TASKS}?show={back}&error=task_missing")
    except task_store.TaskInvalid:
        return see_other(f"{TASKS}?show={back}")
    return see_other(f"{TASKS}?show={back}#task-{task_id}")


# --- Erasure ----------------------------------------------------------------


@router.get("/erase", response_class=HTMLResponse)
async def erase_page(
    request: Request, user: Administrator, id: str = ""
) -> HTMLResponse:
    """Find a conversation by its id to erase it; the erasure log below."""
    service = _service(request)
    summary, missing = None, False
    if id.strip():
        try:
            summary = await run_in_threadpool(service.find_conversation, id[:100])
        except NotFound:
            missing = True
    entries = await run_in_threadpool(service.erasure_log)
    return render(
        request,
        "admin/review_erase.html",
        when=oslo_time,
        status_code=404 if missing else 200,
        query=id[:100],
        summary=summary,
        missing=missing,
        entries=entries,
        done=_erased_notice(request),
    )


def _erased_notice(request: Request) -> dict[str, int] | None:
    query = request.query_params
    if query.get("erased") != "1":
        return None
    return {"messages": _count(query.get("m")), "phrases": _count(query.get("p"))}


@router.post("/erase", dependencies=[Depends(verify_csrf)])
async def erase(request: Request, user: Administrator) -> Response:
    """Erase a conversation and what was learnt from it; logged without content."""
    form = await request.form()
    conversation_id = _field(form, "conversation_id", 100)
    try:
        erased = await run_in_threadpool(_service(request).erase, conversation_id, user)
    except NotFound:
        return see_other(f"{ERASE}?{urlencode({'id': conversation_id})}")
    if erased.changed_knowledge:
        live_trainer(request).request()
    query = {"erased": 1, "m": erased.messages, "p": erased.phrases}
    return see_other(f"{ERASE}?{urlencode(query)}")


feature = AdminFeature(
    router,
    nav=(
        NavItem(QUEUE, "nav.review", ROLES),
        NavItem(TASKS, "nav.tasks", ROLES),
        NavItem(ERASE, "nav.erase", (Role.ADMINISTRATOR,)),
    ),
)
