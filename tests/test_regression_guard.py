"""The regression guard: a save that breaks a must-keep-working question asks."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from test_admin_support import logged_in_client, page_csrf, post_form
from veiviser.service import editing, guard
from veiviser.service.staff import Role
from veiviser.store.knowledge import kb_revision
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


def test_harmless_phrases_save_directly(editor, assistant):
    before = _revision(assistant)
    saved = post_form(
        editor, "/admin/intents/ferie/phrases", {"phrases": "ferie i juli"}
    )

    assert saved.status_code == 303
    assert "ferie i juli" in _phrases(assistant, "ferie")
    assert _revision(assistant) == before + 1
    # Judged before saving, so nothing is left to check afterwards.
    assert guard_verdict(editor, saved.headers["location"]) == (
        '<div id="guard-check"></div>\n'
    )
    assert guard.list_questions(assistant.sessions)[0].last_ok is True


# --- Judged before saving -------------------------------------------------------------

STEALING = (
    "hva koster medlemskapet\nhva koster medlemskapet i ferien\nkoster medlemskapet"
)


def _revision(assistant) -> int:
    with assistant.sessions() as session:
        return kb_revision(session)


def _phrases(assistant, intent_id: str) -> list[str]:
    return editing.load_intent(assistant.sessions, intent_id).intent.phrases


def _press(client: TestClient, html: str, button: str):
    """Submit the form of the confirmation page that holds ``button``."""
    for form in re.findall(r"<form .*?</form>", html, re.S):
        if f">{button}</button>" in form:
            action = re.search(r'action="([^"]+)"', form).group(1)
            fields = re.findall(
                r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form
            )
            data = {name: unescape(value) for name, value in fields}
            return client.post(action, data=data, follow_redirects=False)
    raise AssertionError(f"no button {button!r} on the page")


def test_phrases_that_would_break_a_question_ask_first_and_save_nothing(
    editor, assistant
):
    before = _revision(assistant)
    phrases = _phrases(assistant, "ferie")

    asked = post_form(editor, "/admin/intents/ferie/phrases", {"phrases": STEALING})

    assert asked.status_code == 200
    assert "Endringen er ikke lagret" in asked.text
    assert QUESTION in asked.text and "Kontingent" in asked.text
    assert "Ferie og feriepenger" in asked.text  # what it would become
    assert "Lagre likevel" in asked.text and "Avbryt" in asked.text
    assert _phrases(assistant, "ferie") == phrases
    assert _revision(assistant) == before


def test_saving_anyway_saves_the_phrases(editor, assistant):
    before = _revision(assistant)
    asked = post_form(editor, "/admin/intents/ferie/phrases", {"phrases": STEALING})

    saved = _press(editor, asked.text, "Lagre likevel")

    assert saved.status_code == 303
    assert "hva koster medlemskapet i ferien" in _phrases(assistant, "ferie")
    assert _revision(assistant) == before + 1
    question = guard.list_questions(assistant.sessions)[0]
    assert question.last_ok is False and question.last_answer == "ferie"
    # The editor already chose; no second keep-or-undo question follows.
    assert 'id="guard-check"></div>' in guard_verdict(editor, saved.headers["location"])


def test_cancelling_saves_nothing_and_keeps_the_typed_phrases(editor, assistant):
    before = _revision(assistant)
    phrases = _phrases(assistant, "ferie")
    asked = post_form(editor, "/admin/intents/ferie/phrases", {"phrases": STEALING})

    cancelled = _press(editor, asked.text, "Avbryt")

    assert cancelled.status_code == 200
    assert _phrases(assistant, "ferie") == phrases
    assert _revision(assistant) == before
    typed = re.search(
        r'<textarea id="phrases"[^>]*>(.*?)</textarea>', cancelled.text, re.S
    )
    assert typed and unescape(typed.group(1)).splitlines() == STEALING.splitlines()


def test_new_intent_that_would_break_a_question_asks_first(editor, assistant):
    form = {"intent_id": "pris", "title": "Pris", "status": "active",
            "answer": "Se prislisten.", "phrases": STEALING}  # fmt: skip
    before = _revision(assistant)

    asked = post_form(editor, "/admin/intents", form)

    assert asked.status_code == 200 and QUESTION in asked.text
    assert "pris" not in {
        i.id for i in editing.knowledge_base(assistant.sessions).intents
    }
    assert _revision(assistant) == before
    cancelled = _press(editor, asked.text, "Avbryt")
    assert cancelled.status_code == 200
    assert 'value="pris"' in cancelled.text and "Se prislisten." in cancelled.text
    assert _revision(assistant) == before

    saved = _press(editor, asked.text, "Lagre likevel")

    assert saved.status_code == 303
    assert editing.load_intent(assistant.sessions, "pris").intent.phrases == (
        STEALING.splitlines()
    )


def test_archiving_the_expected_intent_asks_first(editor, assistant):
    added = post_form(
        editor, LIST, {"text": "hvordan blir jeg medlem", "expected": "innmelding"}
    )
    assert added.status_code == 303
    before = _revision(assistant)

    asked = post_form(editor, "/admin/intents/innmelding/archive")

    assert asked.status_code == 200 and "hvordan blir jeg medlem" in asked.text
    assert QUESTION not in asked.text  # it still reaches Kontingent
    assert (
        editing.load_intent(assistant.sessions, "innmelding").intent.status == "active"
    )
    assert _revision(assistant) == before
    back = _press(editor, asked.text, "Avbryt")
    assert back.status_code == 303 and back.headers["location"].endswith("/innmelding")
    assert _revision(assistant) == before

    archived = _press(editor, asked.text, "Lagre likevel")

    assert archived.status_code == 303
    assert "innmelding" in {
        a.intent_id for a in editing.archived_intents(assistant.sessions)
    }


def test_archiving_what_no_question_needs_archives_directly(editor, assistant):
    before = _revision(assistant)
    archived = post_form(editor, "/admin/intents/utkast/archive")
    assert archived.status_code == 303
    assert _revision(assistant) == before + 1


def test_confirmation_forms_carry_csrf(editor, assistant):
    asked = post_form(editor, "/admin/intents/ferie/phrases", {"phrases": STEALING})
    confirm = asked.text[asked.text.index('id="guard-confirm"') :]
    forms = re.findall(r"<form .*?</form>", confirm, re.S)
    assert len(forms) == 2 and all('name="csrf_token"' in f for f in forms)
    without = editor.post(
        "/admin/intents/ferie/phrases",
        data={"phrases": STEALING, "guard_confirmed": "1"},
        follow_redirects=False,
    )
    assert without.status_code in (400, 403)
    assert "hva koster medlemskapet i ferien" not in _phrases(assistant, "ferie")


def test_hostile_phrases_on_the_confirmation_page_are_escaped(editor, assistant):
    hostile = STEALING + '\n"><script>alert(1)</script>'
    asked = post_form(editor, "/admin/intents/ferie/phrases", {"phrases": hostile})
    assert asked.status_code == 200 and "<script>alert(1)" not in asked.text
    cancelled = _press(editor, asked.text, "Avbryt")
    assert "<script>alert(1)" not in cancelled.text
    assert '"><script>alert(1)</script>' in _phrases_typed(cancelled.text)


def _phrases_typed(html: str) -> str:
    typed = re.search(r'<textarea id="phrases"[^>]*>(.*?)</textarea>', html, re.S)
    return unescape(typed.group(1)) if typed else ""


@pytest.mark.parametrize(
    "phrases",
    ["", "   \n  ", STEALING + "\n" + "x" * 600],
    ids=["empty", "blank", "huge"],
)
def test_bad_phrases_with_questions_guarded_are_a_form_error(
    editor, assistant, phrases
):
    before = _revision(assistant)
    response = post_form(editor, "/admin/intents/ferie/phrases", {"phrases": phrases})
    assert response.status_code == 422
    assert "Lagre likevel" not in response.text
    assert _revision(assistant) == before


def test_without_questions_a_save_is_not_judged(assistant):
    client = logged_in_client(assistant, Role.EDITOR)
    saved = post_form(client, "/admin/intents/ferie/phrases", {"phrases": STEALING})
    assert saved.status_code == 303
    assert "hva koster medlemskapet i ferien" in _phrases(assistant, "ferie")
    _trainer(client).stop(timeout=120)


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
