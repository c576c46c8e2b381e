"""Revisions: every change recorded with a diff, rollback, stale copies, the audit log.

Runs on SQLite and PostgreSQL (the ``assistant`` fixture is parametrised).
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from test_admin_support import PASSWORD, add_staff, logged_in_client, post_form
from test_store_support import small_kb
from veiviser.content import Intent, KnowledgeBase
from veiviser.handover.hours import Interval
from veiviser.service import editing, revisions, staff
from veiviser.service.knowledge import import_knowledge_base
from veiviser.service.review import ReviewService
from veiviser.service.staff import Role
from veiviser.store.models import Message
from veiviser.store.models_admin import StaffAccount
from veiviser.store.models_revisions import ContentRevision
from veiviser.web.admin.studio import live_trainer

pytest_plugins = ["test_store_support", "test_admin_support"]

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


# --- Helpers --------------------------------------------------------------------------


def kinds_of(assistant, object_id: str | None = None) -> list[str]:
    with assistant.sessions() as session:
        statement = select(ContentRevision.kind).order_by(ContentRevision.id)
        if object_id is not None:
            statement = statement.where(ContentRevision.object_id == object_id)
        return list(session.scalars(statement))


def newest(assistant) -> ContentRevision:
    with assistant.sessions() as session:
        return session.scalars(
            select(ContentRevision).order_by(ContentRevision.id.desc()).limit(1)
        ).one()


def changed_ferie(**changes) -> Intent:
    base = small_kb().intent("ferie").model_dump()
    return Intent.model_validate({**base, **changes})


def save(assistant, intent: Intent, actor: str = "kari", version: int | None = None):
    return editing.save_intent(
        assistant.sessions, intent, expected_version=version, is_new=False, actor=actor
    )


class _Forms(HTMLParser):
    """The forms of a page: action and the values of their inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append({"action": values.get("action"), "data": {}})
        elif tag in ("input", "button") and self.forms and values.get("name"):
            data = self.forms[-1]["data"]
            data.setdefault(values["name"], []).append(values.get("value") or "")


def form_to(html: str, action: str) -> dict:
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if form["action"] == action:
            return {k: v if len(v) > 1 else v[0] for k, v in form["data"].items()}
    raise AssertionError(f"no form posts to {action}")


def version_on(html: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found, "the editor carries no version"
    return found.group(1)


def edit_form(html: str, **changes) -> dict:
    form = form_to(html, "/admin/intents/ferie")
    form.pop("csrf_token")
    return {**form, **changes}


def client_as(assistant, role: Role, name: str) -> TestClient:
    client = TestClient(live_app(assistant))
    add_staff(assistant, role, name)
    from test_admin_support import login

    assert login(client, name).status_code == 303
    return client


_APPS: dict[int, object] = {}


def live_app(assistant):
    # One app per assistant: both editors then share its LiveTrainer.
    from veiviser.web import create_app

    key = id(assistant)
    if key not in _APPS:
        _APPS[key] = create_app(assistant.settings, assistant)
    return _APPS[key]


@pytest.fixture
def two_editors(assistant):
    first = client_as(assistant, Role.EDITOR, "anne")
    second = client_as(assistant, Role.EDITOR, "bjorn")
    yield first, second
    trainer = getattr(live_app(assistant).state, "live_trainer", None)
    if trainer is not None:
        trainer.stop(timeout=120)
    _APPS.pop(id(assistant), None)


# --- Rollback -------------------------------------------------------------------------


def test_rollback_restores_the_whole_intent_exactly(assistant):
    original = editing.load_intent(assistant.sessions, "ferie").intent
    first = revisions.history(assistant.sessions, "intent", "ferie")[-1]
    save(
        assistant,
        changed_ferie(
            title="Ferie (ny)",
            group=None,
            status="draft",
            handover=True,
            answer="Helt nytt svar.\nMed to linjer.",
            personal_answer="Hei {fornavn}, du har ferie.",
            buttons=[{"intent": "innmelding", "label": "Bli med"}],
            phrases=["bare én frase", "og en til"],
        ),
    )

    saved = revisions.rollback_intent(assistant.sessions, "ferie", first.id, "kari")

    assert editing.load_intent(assistant.sessions, "ferie").intent == original
    assert saved.version == 3
    assert kinds_of(assistant, "ferie")[-1] == revisions.INTENT_ROLLED_BACK


def test_rollback_refuses_an_archiving_and_another_intents_revision(assistant):
    editing.archive_intent(assistant.sessions, "innmelding", "kari")
    archived = newest(assistant)
    kontingent = revisions.history(assistant.sessions, "intent", "kontingent")[0]

    with pytest.raises(revisions.RevisionNotRestorable):
        revisions.rollback_intent(assistant.sessions, "innmelding", archived.id, "kari")
    with pytest.raises(revisions.RevisionNotRestorable):
        revisions.rollback_intent(assistant.sessions, "ferie", kontingent.id, "kari")
    with pytest.raises(editing.NotFound):
        revisions.rollback_intent(assistant.sessions, "ferie", 10**9, "kari")


def test_rollback_from_a_stale_copy_is_refused(assistant):
    first = revisions.history(assistant.sessions, "intent", "ferie")[-1]
    save(assistant, changed_ferie(answer="Endret av en annen."))

    with pytest.raises(editing.StaleEdit):
        revisions.rollback_intent(
            assistant.sessions, "ferie", first.id, "kari", expected_version=1
        )
    assert editing.load_intent(assistant.sessions, "ferie").intent.answer == (
        "Endret av en annen."
    )


# --- Every kind of change is recorded -------------------------------------------------


def _create(assistant):
    intent = Intent(id="ny", title="Ny", answer="Svar.", phrases=["hei"])
    editing.save_intent(
        assistant.sessions, intent, expected_version=None, is_new=True, actor="kari"
    )


def _edit(assistant):
    save(assistant, changed_ferie(answer="Nytt svar."))


def _add_phrases(assistant):
    editing.add_phrases(assistant.sessions, "ferie", ["ny frase"], "kari")


def _remove_phrase(assistant):
    editing.remove_phrase(assistant.sessions, "ferie", "ferie", "kari")


def _archive(assistant):
    editing.archive_intent(assistant.sessions, "innmelding", "kari")


def _restore(assistant):
    editing.archive_intent(assistant.sessions, "innmelding", "kari")
    editing.restore_intent(assistant.sessions, "innmelding", "kari")


def _import(assistant):
    ferie = changed_ferie(title="Importert ferie", buttons=[])
    extra = KnowledgeBase(groups=small_kb().groups, intents=[ferie])
    import_knowledge_base(assistant.sessions, extra, merge=True, actor="kari")


def _notice(assistant):
    editing.set_notice(assistant.sessions, "Stengt i dag.", None, None, "kari")


def _declines(assistant):
    opened = assistant.chat.start()
    assistant.chat.send(opened.id, opened.token, "hvor kan jeg kjøpe billig kaffe")
    with assistant.sessions() as session:
        ids = list(session.scalars(select(Message.id).where(Message.role == "member")))
    kari = staff.create_account(assistant.sessions, "kari", PASSWORD, Role.TRAINER)
    ReviewService(assistant).mark_out_of_scope(ids, kari)


def _opening_hours(assistant):
    assistant.handover.save_week({0: [Interval.parse("10:00", "14:00")]}, "kari")


def _user_created(assistant):
    staff.create_account(assistant.sessions, "ola", PASSWORD, Role.EDITOR, "kari")


def _user_changed(assistant):
    account = staff.create_account(assistant.sessions, "ola", PASSWORD, Role.EDITOR)
    staff.update_account(assistant.sessions, account.id, Role.ANALYST, True, "kari")


def _user_disabled(assistant):
    account = staff.create_account(assistant.sessions, "ola", PASSWORD, Role.EDITOR)
    staff.update_account(assistant.sessions, account.id, Role.EDITOR, False, "kari")


def _password_reset(assistant):
    account = staff.create_account(assistant.sessions, "ola", PASSWORD, Role.EDITOR)
    staff.set_password(assistant.sessions, account.id, "et-helt-nytt-passord", "kari")


CHANGES = {
    revisions.INTENT_CREATED: _create,
    revisions.INTENT_EDITED: _edit,
    revisions.PHRASES_ADDED: _add_phrases,
    revisions.PHRASES_REMOVED: _remove_phrase,
    revisions.INTENT_ARCHIVED: _archive,
    revisions.INTENT_RESTORED: _restore,
    revisions.KB_IMPORTED: _import,
    revisions.NOTICE_CHANGED: _notice,
    revisions.DECLINES_ADDED: _declines,
    revisions.SETTINGS_CHANGED: _opening_hours,
    revisions.USER_CREATED: _user_created,
    revisions.USER_CHANGED: _user_changed,
    revisions.USER_DISABLED: _user_disabled,
    revisions.USER_PASSWORD_RESET: _password_reset,
}


@pytest.mark.parametrize("kind", list(CHANGES))
def test_each_kind_of_change_is_recorded_with_who_and_a_diff(
    assistant, admin_client, kind
):
    before = len(kinds_of(assistant))

    CHANGES[kind](assistant)

    with assistant.sessions() as session:
        rows = session.scalars(
            select(ContentRevision).where(ContentRevision.kind == kind)
        ).all()
    assert len(kinds_of(assistant)) > before
    assert rows, f"no {kind} revision"
    row = rows[-1]
    assert row.actor == "kari"
    assert row.object_type == revisions.KINDS[kind]
    assert revisions.diff(row.before, row.after), "the revision shows no change"
    page = admin_client.get("/admin/revisjoner", params={"kind": kind})
    assert page.status_code == 200
    assert f'id="r{row.id}"' in page.text


def test_import_records_a_revision_for_each_changed_intent(assistant):
    _import(assistant)

    history = revisions.history(assistant.sessions, "intent", "ferie")
    assert history[0].kind == revisions.INTENT_IMPORTED
    [title] = [c for c in history[0].changes if c.field == "title"]
    assert (title.old, title.new) == ("Ferie og feriepenger", "Importert ferie")
    assert revisions.history(assistant.sessions, "intent", "kontingent")[0].kind == (
        revisions.INTENT_IMPORTED  # only the first import, nothing changed since
    )
    assert len(revisions.history(assistant.sessions, "intent", "kontingent")) == 1


def test_a_failed_save_records_nothing(assistant):
    before = kinds_of(assistant)
    broken = changed_ferie(buttons=[{"intent": "finnes_ikke"}])

    with pytest.raises(editing.IntentInvalid):
        save(assistant, broken)

    assert kinds_of(assistant) == before


def test_the_revision_log_never_holds_a_password_or_its_hash(assistant):
    new_password = "et-helt-nytt-passord"
    account = staff.create_account(assistant.sessions, "ola", PASSWORD, Role.EDITOR)
    staff.set_password(assistant.sessions, account.id, new_password, "kari")
    staff.update_account(assistant.sessions, account.id, Role.TRAINER, False, "kari")

    with assistant.sessions() as session:
        hashed = session.get(StaffAccount, account.id).password_hash
        rows = session.scalars(select(ContentRevision)).all()
    stored = json.dumps([[r.label, r.before, r.after] for r in rows])
    for secret in (PASSWORD, new_password, hashed, "argon2"):
        assert secret not in stored


# --- Diffs ----------------------------------------------------------------------------


def test_diff_lists_phrases_as_added_and_removed_and_answers_by_line():
    before = {"phrases": ["a", "b"], "answer": "én\nto\ntre", "handover": False}
    after = {"phrases": ["b", "c"], "answer": "én\nTO\ntre", "handover": True}

    changes = {c.field: c for c in revisions.diff(before, after)}

    assert changes["phrases"].added == ("c",)
    assert changes["phrases"].removed == ("a",)
    assert ("-", "to") in changes["answer"].lines
    assert ("+", "TO") in changes["answer"].lines
    assert (changes["handover"].old, changes["handover"].new) == (False, True)


# --- Stale copies ---------------------------------------------------------------------


def test_the_second_of_two_stale_saves_is_told_who_changed_what(two_editors):
    anne, bjorn = two_editors
    anne_form = edit_form(anne.get("/admin/intents/ferie").text)
    bjorn_form = edit_form(bjorn.get("/admin/intents/ferie").text)

    first = post_form(anne, "/admin/intents/ferie", {**anne_form, "answer": "Annes."})
    second = post_form(
        bjorn, "/admin/intents/ferie", {**bjorn_form, "answer": "Bjørns svar."}
    )

    assert first.status_code == 303
    assert second.status_code == 409
    assert "anne lagret en endring" in second.text
    assert "Annes." in second.text  # the other's change
    assert "Bjørns svar." in second.text  # and the editor's own, not lost
    assert bjorn.get("/admin/intents/ferie").text.count("Annes.") >= 1


def _conflict(two_editors) -> tuple[TestClient, TestClient, str]:
    anne, bjorn = two_editors
    anne_form = edit_form(anne.get("/admin/intents/ferie").text)
    bjorn_form = edit_form(bjorn.get("/admin/intents/ferie").text)
    post_form(anne, "/admin/intents/ferie", {**anne_form, "answer": "Annes."})
    page = post_form(
        bjorn, "/admin/intents/ferie", {**bjorn_form, "answer": "Bjørns svar."}
    )
    assert page.status_code == 409
    return anne, bjorn, page.text


def test_keeping_my_version_overwrites_and_both_stay_in_history(assistant, two_editors):
    _, bjorn, page = _conflict(two_editors)

    form = form_to(page, "/admin/intents/ferie")
    response = bjorn.post("/admin/intents/ferie", data=form, follow_redirects=False)

    assert response.status_code == 303
    assert editing.load_intent(assistant.sessions, "ferie").intent.answer == (
        "Bjørns svar."
    )
    answers = [
        r.after["answer"]
        for r in revisions.history(assistant.sessions, "intent", "ferie")
    ]
    assert answers[:2] == ["Bjørns svar.", "Annes."]
    assert newest(assistant).actor == "bjorn"


def test_taking_the_stored_version_changes_nothing(assistant, two_editors):
    _, bjorn, page = _conflict(two_editors)
    count = len(kinds_of(assistant))

    assert 'href="/admin/intents/ferie"' in page
    stored = bjorn.get("/admin/intents/ferie")

    assert "Annes." in stored.text
    assert editing.load_intent(assistant.sessions, "ferie").intent.answer == "Annes."
    assert len(kinds_of(assistant)) == count


def test_merging_by_hand_opens_my_text_at_the_stored_version(assistant, two_editors):
    _, bjorn, page = _conflict(two_editors)

    form = form_to(page, "/admin/intents/ferie/merge")
    merge = bjorn.post("/admin/intents/ferie/merge", data=form)

    assert merge.status_code == 200
    assert "Bjørns svar." in merge.text and "Annes." in merge.text
    stored_version = editing.load_intent(assistant.sessions, "ferie").version
    assert version_on(merge.text) == str(stored_version)
    merged = edit_form(merge.text, answer="Annes. Bjørns svar.")
    saved = post_form(bjorn, "/admin/intents/ferie", merged)
    assert saved.status_code == 303
    assert editing.load_intent(assistant.sessions, "ferie").intent.answer == (
        "Annes. Bjørns svar."
    )


def test_archiving_a_stale_copy_asks_first(assistant, two_editors):
    anne, bjorn = two_editors
    anne_form = edit_form(anne.get("/admin/intents/ferie").text)
    old_page = bjorn.get("/admin/intents/ferie").text
    post_form(anne, "/admin/intents/ferie", {**anne_form, "answer": "Annes."})
    # kontingent's button to ferie would block the archive; take it away.
    editing.save_intent(
        assistant.sessions,
        small_kb().intent("kontingent").model_copy(update={"buttons": []}),
        expected_version=None,
        is_new=False,
        actor="kari",
    )

    archive = form_to(old_page, "/admin/intents/ferie/archive")
    asked = bjorn.post("/admin/intents/ferie/archive", data=archive)

    assert asked.status_code == 409
    assert "anne lagret en endring" in asked.text
    assert editing.load_intent(assistant.sessions, "ferie").intent.answer == "Annes."
    anyway = form_to(asked.text, "/admin/intents/ferie/archive")
    done = bjorn.post(
        "/admin/intents/ferie/archive", data=anyway, follow_redirects=False
    )
    assert done.status_code == 303
    assert kinds_of(assistant, "ferie")[-1] == revisions.INTENT_ARCHIVED


# --- History page and rollback in the studio ------------------------------------------


def test_editor_rolls_back_from_the_history_page_and_the_model_retrains(
    assistant, two_editors
):
    anne, _ = two_editors
    form = edit_form(anne.get("/admin/intents/ferie").text, answer="Feil svar.")
    post_form(anne, "/admin/intents/ferie", form)
    editor_page = anne.get("/admin/intents/ferie").text
    assert 'href="/admin/intents/ferie/history"' in editor_page

    history = anne.get("/admin/intents/ferie/history").text
    first = revisions.history(assistant.sessions, "intent", "ferie")[-1]
    action = f"/admin/intents/ferie/history/{first.id}/restore"
    assert "Gjenopprett denne versjonen" in history
    response = anne.post(action, data=form_to(history, action), follow_redirects=False)

    assert response.status_code == 303
    assert editing.load_intent(assistant.sessions, "ferie").intent == (
        small_kb().intent("ferie")
    )
    revision = int(re.search(r"saved=(\d+)", response.headers["location"]).group(1))
    assert live_trainer(_RequestFor(anne)).wait_idle(120)
    status = anne.get(f"/admin/training?revision={revision}").text
    assert "i bruk i chatten nå" in status


class _RequestFor:
    def __init__(self, client: TestClient) -> None:
        self.app = client.app


def test_rollback_that_no_longer_fits_says_so(assistant, two_editors):
    anne, _ = two_editors
    first = revisions.history(assistant.sessions, "intent", "kontingent")[-1]
    kb = editing.knowledge_base(assistant.sessions)
    editing.save_intent(
        assistant.sessions,
        kb.intent("kontingent").model_copy(update={"buttons": []}),
        expected_version=None,
        is_new=False,
        actor="kari",
    )
    editing.archive_intent(assistant.sessions, "ferie", "kari")

    history = anne.get("/admin/intents/kontingent/history").text
    action = f"/admin/intents/kontingent/history/{first.id}/restore"
    response = anne.post(action, data=form_to(history, action))

    assert response.status_code == 409
    assert "passer ikke lenger" in response.text
    assert editing.load_intent(assistant.sessions, "kontingent").intent.buttons == []


# --- Roles ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "audit", "history", "rollback"),
    [
        (Role.ADMINISTRATOR, 200, 200, 303),
        (Role.EDITOR, 403, 200, 303),
        (Role.TRAINER, 403, 200, 403),
        (Role.ANALYST, 403, 403, 403),
        (Role.ADVISOR, 403, 403, 403),
    ],
)
def test_who_may_read_the_log_and_roll_back(assistant, role, audit, history, rollback):
    client = logged_in_client(assistant, role)
    first = revisions.history(assistant.sessions, "intent", "ferie")[-1]
    save(assistant, changed_ferie(answer="Endret."))

    assert client.get("/admin/revisjoner").status_code == audit
    assert client.get("/admin/intents/ferie/history").status_code == history
    path = f"/admin/intents/ferie/history/{first.id}/restore"
    assert post_form(client, path).status_code == rollback
    answer = editing.load_intent(assistant.sessions, "ferie").intent.answer
    assert (answer == "Endret.") == (rollback == 403)
    stop_training(client)


def stop_training(client: TestClient) -> None:
    """Stop a rollback's background training before the database goes."""
    trainer = getattr(client.app.state, "live_trainer", None)
    if trainer is not None:
        trainer.stop(timeout=120)


def test_trainer_sees_the_history_without_a_restore_button(assistant):
    trainer = logged_in_client(assistant, Role.TRAINER)
    save(assistant, changed_ferie(answer="Endret."))

    page = trainer.get("/admin/intents/ferie/history")

    assert "Endret." in page.text
    assert "Gjenopprett denne versjonen" not in page.text


# --- The audit log --------------------------------------------------------------------


def test_audit_log_filters_by_user_kind_object_and_date(assistant, admin_client):
    save(assistant, changed_ferie(answer="Av kari."), actor="kari")
    editing.add_phrases(assistant.sessions, "kontingent", ["koster det"], "per")
    editing.set_notice(assistant.sessions, "Stengt.", None, None, "per")
    today = date.today()

    def shown(**params) -> str:
        response = admin_client.get("/admin/revisjoner", params=params)
        assert response.status_code == 200
        return response.text

    by_kari = shown(actor="kari")
    assert "Av kari." in by_kari and "koster det" not in by_kari
    phrases = shown(kind=revisions.PHRASES_ADDED)
    assert "koster det" in phrases and "Av kari." not in phrases
    notices = shown(kind="notice")
    assert "Stengt." in notices and "koster det" not in notices
    assert "Av kari." in shown(q="FERIE")
    assert "Av kari." not in shown(q="kontingent")
    around = (today - timedelta(days=1)).isoformat()
    assert "Av kari." in shown(since=around, until=(today + timedelta(1)).isoformat())
    assert "Ingen endringer passer" in shown(since=(today + timedelta(2)).isoformat())


def test_audit_log_is_newest_first_and_paginated(assistant):
    for number in range(revisions.PAGE_SIZE + 5):
        editing.add_phrases(assistant.sessions, "ferie", [f"frase {number}"], "kari")

    query = revisions.AuditQuery(actor="kari")
    first = revisions.search(assistant.sessions, query)
    second = revisions.search(
        assistant.sessions, revisions.AuditQuery(actor="kari", page=2)
    )

    assert first.total == revisions.PAGE_SIZE + 5
    assert (first.pages, len(first.revisions), len(second.revisions)) == (2, 50, 5)
    ids = [r.id for r in first.revisions + second.revisions]
    assert ids == sorted(ids, reverse=True)
    assert first.revisions[0].changes[0].added == (f"frase {revisions.PAGE_SIZE + 4}",)


# --- Hostile input --------------------------------------------------------------------


def test_hostile_phrase_is_inert_in_the_diff(assistant, admin_client):
    editing.add_phrases(assistant.sessions, "ferie", [HOSTILE], "kari")

    for path in ("/admin/intents/ferie/history", "/admin/revisjoner"):
        page = admin_client.get(path)
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "&lt;script&gt;alert" in page.text


@pytest.mark.parametrize(
    ("params", "status", "text"),
    [
        ({"q": "x" * 10_000}, 422, "Søketeksten er for lang"),
        ({"actor": "y" * 5_000}, 422, "Søketeksten er for lang"),
        ({"since": "i går"}, 422, "ÅÅÅÅ-MM-DD"),
        ({"since": "2026-13-45"}, 422, "ÅÅÅÅ-MM-DD"),
        ({"since": "2026-05-02", "until": "2026-05-01"}, 422, "slutter før"),
        ({"since": "0001-01-01"}, 422, "mellom år 1900 og 9998"),
        ({"until": "9999-12-31"}, 422, "mellom år 1900 og 9998"),
        ({"kind": HOSTILE}, 422, "Ukjent type"),
        ({"q": "' OR 1=1 --"}, 200, "Ingen endringer passer"),
        ({"q": "%"}, 200, "Ingen endringer passer"),
        ({"q": "وظيفة 工作"}, 200, "Ingen endringer passer"),
        ({"page": "99999999999999"}, 200, "Revisjoner"),
        ({"page": "abc", "q": "", "actor": "", "since": "", "until": ""}, 200, "ferie"),
    ],
)
def test_odd_audit_log_searches_get_a_clear_answer(admin_client, params, status, text):
    response = admin_client.get("/admin/revisjoner", params=params)

    assert response.status_code == status
    assert text in response.text
    assert "<script>alert" not in response.text


def test_odd_history_and_rollback_requests_never_fail(admin_client):
    assert admin_client.get("/admin/intents/finnes_ikke/history").status_code == 404
    assert admin_client.get(f"/admin/intents/{'x' * 500}/history").status_code == 404
    path = "/admin/intents/ferie/history/999999/restore"
    assert post_form(admin_client, path, {"version": "²"}).status_code == 404
    huge = "/admin/intents/ferie/history/99999999999999999999999/restore"
    assert post_form(admin_client, huge).status_code < 500
    stale = post_form(admin_client, "/admin/intents/ferie", {"version": "²"})
    assert stale.status_code < 500


def test_opening_hours_changed_in_the_admin_name_who_and_the_weekday(
    assistant, admin_client
):
    week = {f"day_{day}": "09:00-15:00" if day < 5 else "" for day in range(7)}
    week["day_0"] = "10:00-14:00"

    response = post_form(admin_client, "/admin/handover/hours", week)

    assert response.status_code == 303
    row = newest(assistant)
    assert (row.kind, row.actor, row.object_id) == (
        revisions.SETTINGS_CHANGED,
        "sjefen",
        "opening_hours",
    )
    page = admin_client.get("/admin/revisjoner", params={"kind": "settings"}).text
    assert "Åpningstider" in page and "Mandag" in page and "10:00-14:00" in page


def test_erasing_a_conversation_takes_its_phrases_out_of_the_revision_log(assistant):
    learnt, other = "får jeg «særavtale» på lørdag", "en annen frase"
    opened = assistant.chat.start()
    assistant.chat.send(opened.id, opened.token, learnt)
    with assistant.sessions() as session:
        ids = list(session.scalars(select(Message.id).where(Message.role == "member")))
    kari = staff.create_account(assistant.sessions, "kari", PASSWORD, Role.TRAINER)
    service = ReviewService(assistant)
    service.add_to_intent(ids, "ferie", kari)
    service.mark_out_of_scope(ids, kari)
    editing.add_phrases(assistant.sessions, "ferie", [other], "kari")

    service.erase(opened.id, kari)

    with assistant.sessions() as session:
        rows = session.scalars(select(ContentRevision)).all()
        stored = json.dumps([[r.before, r.after] for r in rows], ensure_ascii=False)
    assert learnt not in stored
    assert other in stored
    assert revisions.history(assistant.sessions, "intent", "ferie")[0].changes[
        0
    ].added == (other,)
