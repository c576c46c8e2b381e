"""The studio: intents, answers, phrases, trying, import/export and the notice.

Every save stores the change and asks the process's ``LiveTrainer`` for a
new model; the page then polls ``/admin/training`` until the change is live
(or says why training failed, while the last good model keeps answering).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from veiviser.content import Intent
from veiviser.content.model import MAX_ANSWER_CHARS, MAX_PHRASE_CHARS
from veiviser.content.yaml_io import dump_knowledge_base, parse_knowledge_base
from veiviser.dialogue import ConversationState, KnowledgeView, Texts, take_turn
from veiviser.errors import (
    KnowledgeBaseError,
    KnowledgeBaseProblem,
    NotFound,
    VeiviserError,
)
from veiviser.members.demo import demo_members
from veiviser.nlu.decision import Decision
from veiviser.service import Assistant, editing
from veiviser.service.knowledge import import_knowledge_base, stored_knowledge_base
from veiviser.service.members import editor_placeholders, preview_personal_answer
from veiviser.service.runtime import encoder_label
from veiviser.service.training import LiveTrainer
from veiviser.store.knowledge import kb_revision
from veiviser.text import clean_message
from veiviser.text.masking import mask_personal_data
from veiviser.web.admin import guard as guard_hooks
from veiviser.web.admin.auth import Role, StaffUser, require_role, verify_csrf
from veiviser.web.admin.day_range import in_range
from veiviser.web.admin.health import request_health
from veiviser.web.admin.intent_form import PERSONAL, IntentFields
from veiviser.web.admin.kb_problems import describe
from veiviser.web.admin.pages import (
    AdminFeature,
    FormText,
    NavItem,
    error_page,
    render,
    see_other,
    settings_of,
)

log = logging.getLogger(__name__)

IMPORT_PATH = "/admin/kb/import"
router = APIRouter(prefix="/admin", include_in_schema=False)

Editor = Annotated[StaffUser, Depends(require_role(Role.EDITOR))]
# Trainers see intents and add or remove phrases; only editors change answers.
PhraseEditor = Annotated[StaffUser, Depends(require_role(Role.EDITOR, Role.TRAINER))]
CSRF = [Depends(verify_csrf)]
BLANK_BUTTON_ROWS = 2
MAX_BULK_PHRASES = 500


def _assistant(request: Request) -> Assistant:
    return request.app.state.assistant


def live_trainer(request: Request) -> LiveTrainer:
    """This process's trainer, made on first use."""
    trainer = getattr(request.app.state, "live_trainer", None)
    if trainer is None:
        assistant = _assistant(request)
        trainer = LiveTrainer(
            assistant.sessions,
            assistant.encoder,
            assistant.settings.seed,
            lambda: assistant.models.current,
            assistant.watcher.check,
        )
        request.app.state.live_trainer = trainer
    return trainer


def _changed(request: Request) -> None:
    live_trainer(request).request()
    request_health(request)


def _is_number(value: str) -> bool:
    # isdigit() alone lets "²" through, which int() refuses.
    return value.isascii() and value.isdigit() and len(value) < 10


def _is_fragment(request: Request) -> bool:
    return request.headers.get("x-admin-fragment") == "1"


# --- Intent list --------------------------------------------------------------


@router.get("/intents", response_class=HTMLResponse)
def intents_page(
    request: Request,
    user: PhraseEditor,
    q: str = "",
    group: str = "",
    status: str = "",
    max_phrases: str = "",
) -> HTMLResponse:
    """The intents, searchable and filtered by group, status and phrase count."""
    sessions = _assistant(request).sessions
    limit = int(max_phrases) if max_phrases.isdigit() else None
    status = status if status in ("active", "draft") else ""
    intents = editing.list_intents(sessions, q[:200], group[:63], status, limit)
    template = "admin/studio/_intent_rows.html" if _is_fragment(request) else None
    return render(
        request,
        template or "admin/studio/intents.html",
        intents=intents,
        groups=editing.knowledge_base(sessions).groups,
        filters={"q": q[:200], "group": group, "status": status, "max": max_phrases},
    )


# --- One intent -----------------------------------------------------------------


@router.get("/intents/new", response_class=HTMLResponse)
def new_intent_page(request: Request, user: Editor) -> HTMLResponse:
    """An empty intent form."""
    blank = {"id": "", "title": "", "group": None, "status": "draft",
             "handover": False, "answer": "", "buttons": [], "phrases": []}  # fmt: skip
    return _intent_form(request, blank, version=None)


def _intent_form(
    request: Request,
    values: dict,
    version: int | None,
    status_code: int = 200,
    problems: dict[str, str] | None = None,
    **extra: object,
) -> HTMLResponse:
    kb = editing.knowledge_base(_assistant(request).sessions)
    buttons = list(values.get("buttons") or [])
    buttons += [{"intent": "", "label": ""}] * BLANK_BUTTON_ROWS
    return render(
        request,
        "admin/studio/intent.html",
        status_code=status_code,
        values=values,
        buttons=buttons,
        version=version,
        is_new=version is None,
        groups=kb.groups,
        targets=[(i.id, i.title) for i in kb.intents if i.id != values.get("id")],
        problems={k: v for k, v in (problems or {}).items() if k != PERSONAL},
        preview=_preview_html(request, values),
        personal=_personal_editor(request, values, PERSONAL in (problems or {})),
        saved_revision=extra.pop("saved_revision", None),
        **extra,
    )


@router.get("/intents/{intent_id}", response_class=HTMLResponse)
def intent_page(
    request: Request, user: PhraseEditor, intent_id: str, saved: int = 0
) -> HTMLResponse:
    """Edit one intent: answer, buttons, handover mark, status and phrases."""
    try:
        found = editing.load_intent(_assistant(request).sessions, intent_id)
    except NotFound:
        return error_page(request, 404, "error.not_found")
    values = found.intent.model_dump(mode="json")
    return _intent_form(request, values, found.version, saved_revision=saved or None)


@router.post("/intents", dependencies=CSRF)
def create_intent(
    request: Request,
    user: Editor,
    form: IntentFields,
    intent_id: FormText = "",
    phrases: FormText = "",
    guard_confirmed: FormText = "",
    guard_cancel: FormText = "",
) -> Response:
    """Create an intent (with its first phrases) and start training.

    When guarded questions would break, nothing is saved until the editor
    confirms; cancelling shows the form again as it was filled in.
    """
    values = form.values(intent_id)
    values["phrases"] = [line for line in phrases.splitlines() if line.strip()]
    if guard_cancel == "1":
        return _intent_form(request, {**values, "phrases_text": phrases}, None)
    if form.problems():
        values["phrases_text"] = phrases[:50_000]
        return _intent_form(request, values, None, 422, form.problems())
    try:
        intent = editing.build_intent(values)
        foresight = guard_hooks.foresee_intent(request, intent)
        if foresight is not None and foresight.broken and guard_confirmed != "1":
            fields = [("intent_id", intent_id), ("phrases", phrases), *form.pairs()]
            return guard_hooks.confirm_page(
                request, "/admin/intents", fields, foresight.broken
            )
        saved = editing.save_intent(
            _assistant(request).sessions,
            intent,
            expected_version=None,
            is_new=True,
            actor=user.username,
        )
    except editing.IntentInvalid as error:
        values["phrases_text"] = phrases[:50_000]
        long = _long_phrase(values["phrases"])
        if long is None:
            return _intent_form(request, values, None, 422, error.problems)
        problems = {**error.problems, "phrases": "too_long"}
        return _intent_form(request, values, None, 422, problems, long_phrase=long)
    _changed(request)
    guard_hooks.after_save(
        request, foresight, saved.kb_revision, saved.intent_id, "create", None, user
    )
    return see_other(f"/admin/intents/{saved.intent_id}?saved={saved.kb_revision}")


@router.post("/intents/preview", response_class=HTMLResponse, dependencies=CSRF)
def preview(
    request: Request,
    user: Editor,
    form: IntentFields,
    intent_id: FormText = "",
    preview_member: FormText = "",
) -> HTMLResponse:
    """The answer as the member will see it, while the editor types."""
    values = form.values(intent_id)
    return render(
        request,
        "admin/members/_intent_preview.html",
        preview=_preview_html(request, values),
        personal=_personal_editor(request, values, False, preview_member),
    )


def _preview_html(request: Request, values: dict) -> dict | None:
    """The reply a member gets for this intent, through the real dialogue rules."""
    kb = editing.knowledge_base(_assistant(request).sessions)
    draft = {**values, "id": values.get("id") or "ny_intensjon", "status": "active"}
    draft["title"] = draft.get("title") or "–"
    draft["phrases"] = []
    draft["buttons"] = [b for b in draft.get("buttons") or [] if b["intent"]]
    draft[PERSONAL] = None
    try:
        intent = Intent.model_validate({**draft, "answer": draft.get("answer") or " "})
    except ValueError:
        return None
    others = [i for i in kb.intents if i.id != intent.id]
    try:
        view_kb = kb.model_copy(update={"intents": [*others, intent]})
        view = KnowledgeView(view_kb, settings_of(request).handover_intent)
    except ValueError:
        return None
    decision = Decision("answer", (intent.id,), 1.0)
    reply, _ = take_turn(ConversationState(), intent.title, lambda _: decision, view)
    return {"html": reply.html, "buttons": [b.label for b in reply.buttons]}


@router.post("/intents/{intent_id}", dependencies=CSRF)
def save_intent(
    request: Request,
    user: Editor,
    intent_id: str,
    form: IntentFields,
    version: FormText = "",
) -> Response:
    """Save an intent's answer, buttons, mark and status; start training."""
    sessions = _assistant(request).sessions
    try:
        current = editing.load_intent(sessions, intent_id)
    except NotFound:
        return error_page(request, 404, "error.not_found")
    values = form.values(intent_id, current.intent.personal_answer)
    values["phrases"] = current.intent.phrases
    expected = int(version) if _is_number(version) else current.version
    if form.problems():
        return _intent_form(request, values, current.version, 422, form.problems())
    try:
        intent = editing.build_intent(values)
        saved = editing.save_intent(
            sessions,
            intent,
            expected_version=expected,
            is_new=False,
            actor=user.username,
        )
    except editing.IntentInvalid as error:
        return _intent_form(request, values, current.version, 422, error.problems)
    except editing.EditConflict as error:
        from veiviser.web.admin.revisions import conflict_page  # imports studio

        return conflict_page(request, values, error)
    _changed(request)
    before = current.intent.model_dump(mode="json")
    guard_hooks.record(request, saved.kb_revision, intent_id, "save", before, user)
    return see_other(f"/admin/intents/{intent_id}?saved={saved.kb_revision}")


def _personal_editor(
    request: Request, values: dict, invalid: bool, member_id: str = ""
) -> dict:
    """The personal answer's placeholders, form problems and preview.

    The preview fills the template for a fictional demo member from the
    files shipped with veiviser, never from the member directory in use.
    """
    members = demo_members()
    chosen = next((m.id for m in members if m.id == member_id), members[0].id)
    template = values.get(PERSONAL) or ""
    kb = editing.knowledge_base(_assistant(request).sessions)
    words = Texts(kb.organisation, kb.texts).get
    return {
        "placeholders": editor_placeholders(),
        "members": [(m.id, m.name) for m in members],
        "member": chosen,
        "invalid": invalid,
        "too_long": len(template) > MAX_ANSWER_CHARS,
        "preview": preview_personal_answer(template, chosen, words),
    }


# --- Phrases --------------------------------------------------------------------


@router.post("/intents/{intent_id}/phrases", dependencies=CSRF)
def add_phrases(
    request: Request,
    user: PhraseEditor,
    intent_id: str,
    phrases: FormText = "",
    guard_confirmed: FormText = "",
    guard_cancel: FormText = "",
) -> Response:
    """Add training phrases, one per line (a pasted list works).

    When guarded questions would break, nothing is saved until the editor
    confirms; cancelling shows the intent with the typed phrases kept.
    """
    lines = phrases.splitlines()
    sessions = _assistant(request).sessions
    if len(lines) > MAX_BULK_PHRASES:
        return _phrase_error(request, intent_id, "too_many")
    if guard_cancel == "1":
        return _phrase_error(request, intent_id, None, phrases)
    foresight = guard_hooks.foresee_phrases(request, intent_id, lines)
    if foresight is not None and foresight.broken and guard_confirmed != "1":
        action = f"/admin/intents/{intent_id}/phrases"
        fields = [("phrases", phrases[:200_000])]
        return guard_hooks.confirm_page(request, action, fields, foresight.broken)
    before = guard_hooks.snapshot(request, intent_id)
    try:
        added = editing.add_phrases(sessions, intent_id, lines, user.username)
    except NotFound:
        return error_page(request, 404, "error.not_found")
    except editing.IntentInvalid as error:
        if "no phrase" in str(error.problems):
            return _phrase_error(request, intent_id, "empty")
        return _phrase_error(
            request, intent_id, "too_long", phrases, long_phrase=_long_phrase(lines)
        )
    if added.added:
        _changed(request)
        revision = added.saved.kb_revision
        guard_hooks.after_save(
            request, foresight, revision, intent_id, "save", before, user
        )
    target = f"/admin/intents/{intent_id}?saved={added.saved.kb_revision}"
    return see_other(target + f"&added={added.added}&dupes={len(added.duplicates)}")


def _phrase_error(
    request: Request,
    intent_id: str,
    reason: str | None,
    typed: str = "",
    **extra: object,
) -> Response:
    """The intent page with a phrase problem (``reason``), or none, and ``typed``."""
    try:
        found = editing.load_intent(_assistant(request).sessions, intent_id)
    except NotFound:
        return error_page(request, 404, "error.not_found")
    values = found.intent.model_dump(mode="json")
    problems = {"phrases": reason} if reason else None
    status = 422 if reason else 200
    return _intent_form(
        request, values, found.version, status, problems, new_phrases=typed, **extra
    )


def _long_phrase(lines: list[str]) -> dict | None:
    """The first phrase over the limit: its opening words and its length."""
    for line in (text.strip() for text in lines):
        if len(line) > MAX_PHRASE_CHARS:
            opening = " ".join(line[:60].split()[:8])
            return {"start": opening, "length": len(line), "limit": MAX_PHRASE_CHARS}
    return None


# Limitation: a removal is checked by the guard only after it is live (see
# guard.run_pending): the quick update cannot unlearn phrases, so the model it
# brings exists only after a full training. A retraining fast enough to run in
# the request (or a pre-swap hook in LiveTrainer) would retire this.
@router.post("/intents/{intent_id}/phrases/remove", dependencies=CSRF)
def remove_phrase(
    request: Request, user: PhraseEditor, intent_id: str, phrase: FormText = ""
) -> Response:
    """Remove one training phrase."""
    before = guard_hooks.snapshot(request, intent_id)
    try:
        saved = editing.remove_phrase(
            _assistant(request).sessions, intent_id, phrase, user.username
        )
    except NotFound:
        return error_page(request, 404, "error.not_found")
    except editing.IntentInvalid:
        return _phrase_error(request, intent_id, "empty")
    _changed(request)
    guard_hooks.record(request, saved.kb_revision, intent_id, "save", before, user)
    return see_other(f"/admin/intents/{intent_id}?saved={saved.kb_revision}")


# --- Archive ----------------------------------------------------------------------


@router.post("/intents/{intent_id}/archive", dependencies=CSRF)
def archive(
    request: Request,
    user: Editor,
    intent_id: str,
    version: FormText = "",
    guard_confirmed: FormText = "",
    guard_cancel: FormText = "",
) -> Response:
    """Take an intent out of the assistant, keeping it in the archive.

    When guarded questions would break, nothing is archived until the editor
    confirms; cancelling goes back to the intent.
    """
    sessions = _assistant(request).sessions
    expected = int(version) if _is_number(version) else None
    if guard_cancel == "1":
        return see_other(f"/admin/intents/{intent_id}")
    foresight = guard_hooks.foresee_archive(request, intent_id)
    if foresight is not None and foresight.broken and guard_confirmed != "1":
        action = f"/admin/intents/{intent_id}/archive"
        fields = [("version", version[:20])]
        return guard_hooks.confirm_page(request, action, fields, foresight.broken)
    before = guard_hooks.snapshot(request, intent_id)
    try:
        revision = editing.archive_intent(sessions, intent_id, user.username, expected)
    except NotFound:
        return error_page(request, 404, "error.not_found")
    except editing.EditConflict as error:
        from veiviser.web.admin.revisions import conflict_page  # imports studio

        return conflict_page(request, None, error)
    except editing.IntentInUse as error:
        found = editing.load_intent(sessions, intent_id)
        values = found.intent.model_dump(mode="json")
        problems = {"archive": ", ".join(error.used_by)}
        return _intent_form(request, values, found.version, 409, problems)
    _changed(request)
    guard_hooks.after_save(
        request, foresight, revision, intent_id, "archive", before, user
    )
    return see_other(f"/admin/archive?saved={revision}")


@router.get("/archive", response_class=HTMLResponse)
def archive_page(request: Request, user: Editor) -> HTMLResponse:
    """Archived intents, which can be restored as drafts."""
    archived = editing.archived_intents(_assistant(request).sessions)
    return render(request, "admin/studio/archive.html", archived=archived)


@router.post("/archive/{intent_id}/restore", dependencies=CSRF)
def restore(request: Request, user: Editor, intent_id: str) -> Response:
    """Bring an archived intent back as a draft."""
    try:
        saved = editing.restore_intent(
            _assistant(request).sessions, intent_id, user.username
        )
    except NotFound:
        return error_page(request, 404, "error.not_found")
    except editing.IntentInvalid:
        return error_page(request, 409, "studio.archive.restore_taken")
    _changed(request)
    return see_other(f"/admin/intents/{intent_id}?saved={saved.kb_revision}")


# --- Live status ----------------------------------------------------------------


@router.get("/training", response_class=HTMLResponse)
def training_status(
    request: Request, user: PhraseEditor, revision: int = 0
) -> HTMLResponse:
    """A fragment saying whether ``revision`` is live; it polls until it is.

    A revision newer than the stored knowledge base was never saved (a
    hand-edited link): the fragment says so and stops polling.
    """
    assistant = _assistant(request)
    runtime = assistant.models.current
    revision = max(0, min(revision, 2_000_000_000))
    with assistant.sessions() as session:
        stored = kb_revision(session)
    if revision > stored:
        status = editing.LiveStatus("unknown", revision, None)
        return render(request, "admin/studio/_status.html", status=status)
    status = editing.live_status(
        assistant.sessions,
        runtime.kb_revision if runtime else None,
        runtime.model_version_id if runtime else None,
        encoder_label(assistant.encoder),
        revision,
    )
    return render(request, "admin/studio/_status.html", status=status)


# --- Try it -----------------------------------------------------------------------


@router.get("/try", response_class=HTMLResponse)
def try_page(request: Request, user: PhraseEditor) -> HTMLResponse:
    """Type a sentence; see what the assistant understands and answers."""
    return render(request, "admin/studio/try.html", result=None, text="")


@router.post("/try", response_class=HTMLResponse, dependencies=CSRF)
def try_sentence(request: Request, user: PhraseEditor, text: FormText = "") -> Response:
    """The intent, confidence, alternatives and the exact reply for ``text``."""
    assistant = _assistant(request)
    template = "admin/studio/_try_result.html" if _is_fragment(request) else None
    try:
        cleaned = clean_message(text, assistant.settings.max_message_chars)
    except VeiviserError as error:
        return render(
            request,
            template or "admin/studio/try.html",
            status_code=422,
            result={"error": error.code},
            text=text[:2000],
        )
    masked = mask_personal_data(cleaned).text
    runtime = assistant.models.require()
    decision = runtime.model.classify(masked)
    reply, _ = take_turn(ConversationState(), masked, lambda _: decision, runtime.view)
    result = {
        "masked": masked,
        "decision": decision,
        "titles": {
            c.intent: runtime.view.title(c.intent) for c in decision.alternatives
        },
        "reply": reply,
        "model_id": runtime.model_version_id,
        "kb_revision": runtime.kb_revision,
    }
    return render(
        request, template or "admin/studio/try.html", result=result, text=text[:2000]
    )


# --- Import and export ------------------------------------------------------------


@router.get("/kb", response_class=HTMLResponse)
def kb_page(request: Request, user: Editor, imported: int = 0) -> HTMLResponse:
    """Import (replace or merge) and export the knowledge base as YAML."""
    return render(
        request,
        "admin/studio/kb.html",
        problems=[],
        imported=imported or None,
        limit=settings_of(request).admin_upload_bytes,
    )


@router.get("/kb/export")
def export(request: Request, user: Editor) -> Response:
    """The knowledge base as one YAML file, as ``veiviser export`` writes it."""
    kb = editing.knowledge_base(_assistant(request).sessions)
    stamp = datetime.now(ZoneInfo("UTC")).strftime("%Y%m%d-%H%M")
    return Response(
        dump_knowledge_base(kb),
        media_type="application/yaml; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="kunnskapsbase-{stamp}.yaml"'
        },
    )


@router.post("/kb/import", dependencies=CSRF)
async def import_kb(
    request: Request,
    user: Editor,
    file: Annotated[UploadFile | None, File()] = None,
    mode: Annotated[str, Form()] = "merge",
) -> Response:
    """Import an uploaded knowledge base; problems are listed by file and line."""
    name = (file.filename or "opplasting.yaml")[:200] if file else "opplasting.yaml"
    data = await file.read() if file is not None else b""
    problems = _import(request, name, data, merge=mode != "replace", actor=user)
    if problems:
        return render(
            request,
            "admin/studio/kb.html",
            status_code=422,
            problems=[
                {"file": p.file, "line": p.line, "text": describe(p)} for p in problems
            ],
            imported=None,
            limit=settings_of(request).admin_upload_bytes,
        )
    _changed(request)
    return see_other("/admin/kb?imported=1")


def _import(
    request: Request, name: str, data: bytes, merge: bool, actor: StaffUser
) -> list[KnowledgeBaseProblem]:
    if not data.strip():
        return [KnowledgeBaseProblem(name, None, "the file is empty", "empty")]
    try:
        text = data.decode("utf-8")
        sessions = _assistant(request).sessions
        stored = stored_knowledge_base(sessions) if merge else None
        kb = parse_knowledge_base(text, name, merge_into=stored)
        import_knowledge_base(
            sessions, kb, merge=merge, actor=actor.username, source=name
        )
    except UnicodeDecodeError as error:
        problem = f"not UTF-8 text (byte {error.start})"
        params = {"byte": error.start}
        return [KnowledgeBaseProblem(name, None, problem, "not_utf8", params)]
    except KnowledgeBaseError as error:
        return error.problems
    log.info(
        "knowledge base imported in the admin by %s (merge=%s)", actor.username, merge
    )
    return []


# --- Notice -----------------------------------------------------------------------


def _zone(request: Request) -> ZoneInfo:
    return ZoneInfo(settings_of(request).notice_timezone)


def _local_input(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value else ""


def _parse_local(value: str, zone: ZoneInfo) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value[:32])
    except ValueError:
        raise editing.NoticeInvalid(f"Not a time: {value[:32]!r}", "bad_time") from None
    if not in_range(parsed.date()):
        raise editing.NoticeInvalid(f"Out of range: {value[:32]!r}", "time_range")
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed


@router.get("/notice", response_class=HTMLResponse)
def notice_page(request: Request, user: Editor, saved: int = 0) -> HTMLResponse:
    """The notice above the chat, with its start and end (Oslo time)."""
    notice = editing.read_notice(_assistant(request).sessions)
    return _notice_form(request, notice.text, notice, saved=bool(saved))


def _notice_form(
    request: Request,
    text: str,
    notice: editing.NoticeView,
    status_code: int = 200,
    error: str | None = None,
    starts: str | None = None,
    ends: str | None = None,
    saved: bool = False,
) -> HTMLResponse:
    zone = _zone(request)
    shown = notice.shown_at(datetime.now(ZoneInfo("UTC")))
    return render(
        request,
        "admin/studio/notice.html",
        status_code=status_code,
        text=text,
        starts=starts if starts is not None else _local_input(notice.starts_at, zone),
        ends=ends if ends is not None else _local_input(notice.ends_at, zone),
        shown=shown,
        error=error,
        saved=saved,
        zone=str(zone),
        limit=editing.MAX_NOTICE_CHARS,
    )


@router.post("/notice", dependencies=CSRF)
def save_notice(
    request: Request,
    user: Editor,
    text: FormText = "",
    starts_at: FormText = "",
    ends_at: FormText = "",
    clear: FormText = "",
) -> Response:
    """Set or clear the notice."""
    sessions = _assistant(request).sessions
    zone = _zone(request)
    if clear:
        text, starts_at, ends_at = "", "", ""
    try:
        starts, ends = _parse_local(starts_at, zone), _parse_local(ends_at, zone)
        editing.set_notice(sessions, text, starts, ends, user.username)
    except editing.NoticeInvalid as error:
        current = editing.read_notice(sessions)
        return _notice_form(
            request,
            text[:5000],
            current,
            422,
            error.reason,
            starts_at[:32],
            ends_at[:32],
        )
    return see_other("/admin/notice?saved=1")


feature = AdminFeature(
    router,
    nav=(
        NavItem("/admin/intents", "nav.intents", (Role.EDITOR, Role.TRAINER)),
        NavItem("/admin/try", "nav.try", (Role.EDITOR, Role.TRAINER)),
        NavItem("/admin/kb", "nav.kb", (Role.EDITOR,)),
        NavItem("/admin/notice", "nav.notice", (Role.EDITOR,)),
    ),
)
