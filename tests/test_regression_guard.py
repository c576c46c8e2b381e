"""The regression guard: a save that breaks a must-keep-working question asks."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from test_admin_support import logged_in_client, page_csrf, post_form
from veiviser.service import editing, guard
from veiviser.service.staff import Role
from veiviser.web.admin.studio import live_trainer

pytest_plugins = ["test_store_support", "test_admin_support"]

LIST = "/admin/innhold/vakt"
QUESTION = "hva koster medlemskapet"


def _trainer(client: TestClient):
    class _Request:
        app = client.app

    return live_trainer(_Request())  # type: ignore[arg-type]


def guard_verdict(client: TestClient, location: str) -> str:
    """Wait for the model of the save, then the guard's fragment for it."""
    revision = int(re.search(r"saved=(\d+)", location).group(1))
    assert _trainer(client).wait_idle(120, full=True)
    client.app.state.assistant.watcher.check()
    html = client.get(f"{LIST}/sjekk?revision={revision}").text
    assert "data-poll" not in html, html
    return html


def _draft_kontingent(client: TestClient):
    found = editing.load_intent(client.app.state.assistant.sessions, "kontingent")
    intent = found.intent
    return post_form(
        client,
        "/admin/intents/kontingent",
        {"version": str(found.version), "title": intent.title, "status": "draft",
         "answer": intent.answer, "button_intent": "ferie", "button_label": ""},
    )  # fmt: skip


@pytest.fixture
def editor(assistant):
    client = logged_in_client(assistant, Role.EDITOR)
    client.app.state.health_debounce = 3600
    added = post_form(client, LIST, {"text": QUESTION, "expected": "kontingent"})
    assert added.status_code == 303
    yield client
    _trainer(client).stop(timeout=120)
    worker = getattr(client.app.state, "health_worker", None)
    if worker is not None:
        worker.stop()


def test_breaking_change_asks_and_shows_which(editor):
    saved = _draft_kontingent(editor)
    assert saved.status_code == 303

    html = guard_verdict(editor, saved.headers["location"])

    assert "1 spørsmål som må fungere, virker ikke etter endringen." in html
    assert QUESTION in html
    assert "Kontingent" in html  # expected
    assert "Behold endringen" in html and "Angre endringen" in html


def test_keeping_the_change_keeps_it(editor, assistant):
    saved = _draft_kontingent(editor)
    html = guard_verdict(editor, saved.headers["location"])
    check_id = re.search(r"sjekk/(\d+)/behold", html).group(1)

    kept = post_form(editor, f"{LIST}/sjekk/{check_id}/behold")

    assert kept.status_code == 303
    assert (
        editing.load_intent(assistant.sessions, "kontingent").intent.status == "draft"
    )
    assert guard.load_check(assistant.sessions, int(check_id)).status == "kept"


def test_undoing_restores_the_intent_and_the_question_works_again(editor, assistant):
    before = editing.load_intent(assistant.sessions, "kontingent").intent
    saved = _draft_kontingent(editor)
    html = guard_verdict(editor, saved.headers["location"])
    check_id = re.search(r"sjekk/(\d+)/angre", html).group(1)

    undone = post_form(editor, f"{LIST}/sjekk/{check_id}/angre")

    assert undone.status_code == 303
    after = editing.load_intent(assistant.sessions, "kontingent").intent
    assert after == before
    assert _trainer(editor).wait_idle(120, full=True)
    assistant.watcher.check()
    model = assistant.models.require().model
    assert model.classify(QUESTION).intent == "kontingent"
    # A second choice on the same check is refused with a Norwegian page.
    again = post_form(editor, f"{LIST}/sjekk/{check_id}/angre")
    assert again.status_code == 409 and "kan ikke angres" in again.text


def test_harmless_change_passes(editor):
    saved = post_form(
        editor, "/admin/intents/ferie/phrases", {"phrases": "ferie i juli"}
    )
    html = guard_verdict(editor, saved.headers["location"])
    assert "Alle spørsmål som må fungere, virker fortsatt." in html


def test_question_is_masked_and_archived_intent_shows_as_such(editor, assistant):
    added = post_form(
        editor, LIST, {"text": "ring meg på 912 34 567 om ferie", "expected": "utkast"}
    )
    assert added.status_code == 303
    stored = [q.text for q in guard.list_questions(assistant.sessions)]
    assert not any("912 34 567" in text for text in stored)

    editing.archive_intent(assistant.sessions, "utkast", "redaktor")
    page = editor.get(LIST).text
    assert 'data-state="archived"' in page and "(arkivert)" in page


def test_try_page_offers_to_guard_the_sentence(editor):
    token = page_csrf(editor, "/admin/try")
    result = editor.post(
        "/admin/try", data={"text": "ferie i juli", "csrf_token": token}
    )
    assert 'action="/admin/innhold/vakt"' in result.text
    assert "Merk som «må fungere»" in result.text


def test_removing_a_question(editor, assistant):
    question = guard.list_questions(assistant.sessions)[0]
    assert post_form(editor, f"{LIST}/{question.id}/fjern").status_code == 303
    assert guard.list_questions(assistant.sessions) == []
    assert post_form(editor, f"{LIST}/{question.id}/fjern").status_code == 404


@pytest.mark.parametrize(
    ("text", "expected", "message"),
    [
        ("", "ferie", "Skriv et spørsmål."),
        ("   ", "ferie", "Skriv et spørsmål."),
        ("x" * 501, "ferie", "for langt"),
        ("ferie", "", "Velg en intensjon som finnes."),
        ("ferie", "'; DROP TABLE guard_question; --", "Velg en intensjon som finnes."),
        ('<script>alert("x")</script>', "<b>ferie</b>", "Velg en intensjon"),
    ],
    ids=["empty", "blank", "huge", "no-intent", "sql", "xss"],
)
def test_bad_guard_form_is_a_norwegian_error(editor, text, expected, message):
    response = post_form(editor, LIST, {"text": text, "expected": expected})
    assert response.status_code == 422
    assert message in response.text
    assert "<script>alert" not in response.text


def test_foreign_language_question_is_accepted(editor, assistant):
    response = post_form(editor, LIST, {"text": "我想请假 🏖️", "expected": "ferie"})
    assert response.status_code == 303
    assert any(q.text == "我想请假 🏖️" for q in guard.list_questions(assistant.sessions))


def test_roles_for_the_guard(assistant):
    trainer = logged_in_client(assistant, Role.TRAINER)
    assert trainer.get(LIST).status_code == 403
    assert trainer.get(f"{LIST}/sjekk?revision=1").status_code == 200
    analyst = logged_in_client(assistant, Role.ANALYST)
    assert analyst.get(f"{LIST}/sjekk?revision=1").status_code == 403
