"""The personal answer template in the intent editor, on SQLite and PostgreSQL.

An editor sees the template, the placeholders it may use and a live preview
for a fictional demo member; a bad template is a Norwegian form error and
nothing is saved; saving other fields never loses the template.
"""

from __future__ import annotations

import html
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from test_admin_support import logged_in_client, page_csrf, post_form
from test_members_support import QUESTIONS, login_settings
from test_min_side_api import Chat, open_personal
from veiviser.members.csv_import import import_members
from veiviser.members.demo import DEMO_MEMBERS
from veiviser.members.templates import PLACEHOLDERS
from veiviser.service import Assistant, editing
from veiviser.service.members import editor_placeholders
from veiviser.service.staff import Role
from veiviser.web.admin.studio import live_trainer
from veiviser.web.admin.texts import admin_texts

pytest_plugins = ["test_store_support", "test_admin_support", "test_members_support"]

FORM_ERROR = "Det personlige svaret kan ikke brukes"


@pytest.fixture
def assistant(database_url, tmp_path, personal_model) -> Iterator[Assistant]:
    """The personal knowledge base, member login on, demo members imported."""
    ready = open_personal(database_url, tmp_path, personal_model, **login_settings())
    import_members(ready.sessions, DEMO_MEMBERS)
    yield ready
    ready.close()


def stored_template(assistant: Assistant, intent_id: str = "kurs") -> str | None:
    return editing.load_intent(assistant.sessions, intent_id).intent.personal_answer


def intent_form(client: TestClient, intent_id: str = "kurs", **changes) -> dict:
    """The intent's form fields as the editor page sends them, with changes."""
    intent = editing.load_intent(client.app.state.assistant.sessions, intent_id)
    fields = {
        "version": str(intent.version),
        "title": intent.intent.title,
        "status": intent.intent.status,
        "answer": intent.intent.answer,
        "personal_field": "1",
        "personal_answer": intent.intent.personal_answer or "",
    }
    return {**fields, **changes}


def wait_for_training(client: TestClient) -> None:
    class _Request:  # the trainer lives on the app's state
        app = client.app

    assert live_trainer(_Request()).wait_idle(120)  # type: ignore[arg-type]


def test_editor_shows_the_template_the_placeholders_and_a_demo_preview(
    admin_client, assistant
):
    page = admin_client.get("/admin/intents/kurs")
    text = html.unescape(page.text)

    assert page.status_code == 200
    assert 'name="personal_answer"' in page.text
    assert stored_template(assistant) in text  # the stored template, as written
    for token, _ in editor_placeholders():
        assert f"<code>{token}</code>" in text
    assert "Kari Demodatter" in text and "Ola Prøvesen" in text
    # The preview fills the template for the first demo member.
    assert "Hei Kari!" in text and "Grunnkurs for tillitsvalgte, del 1" in text


def test_every_placeholder_is_described_in_the_admin_texts():
    texts = admin_texts()
    keys = [key for _, key in editor_placeholders()]

    assert len(keys) == len(PLACEHOLDERS)
    assert [k for k in keys if f"members.placeholder.{k}" not in texts] == []


def test_saved_template_is_what_a_logged_in_member_then_gets(admin_client, assistant):
    template = "Hei {fornavn}, du har {kurs.antall} kurs:\n\n{kurs:liste}"

    saved = post_form(
        admin_client,
        "/admin/intents/kurs",
        intent_form(admin_client, personal_answer=template),
    )

    assert saved.status_code == 303, saved.text
    assert stored_template(assistant) == template
    wait_for_training(admin_client)
    reply = Chat(admin_client, "demo-kari").ask(QUESTIONS["kurs"], "demo-kari")
    assert "Hei Kari, du har 3 kurs" in reply["html"]


def test_saving_from_a_form_without_the_field_keeps_the_template(
    admin_client, assistant
):
    before = stored_template(assistant)
    form = intent_form(admin_client, answer="Nytt generelt svar om kurs.")
    del form["personal_field"], form["personal_answer"]

    saved = post_form(admin_client, "/admin/intents/kurs", form)

    assert saved.status_code == 303, saved.text
    assert before and stored_template(assistant) == before


def test_emptying_the_field_removes_the_template(admin_client, assistant):
    saved = post_form(
        admin_client,
        "/admin/intents/kurs",
        intent_form(admin_client, personal_answer=""),
    )
    assert saved.status_code == 303, saved.text
    assert stored_template(assistant) is None


BAD_TEMPLATES = {
    "unknown": ("Hei {ukjent}!", "Linje 1: {ukjent} er ikke en plassholder"),
    "lone-brace": ("Hei\n{fornavn", "Linje 2: klammen { står alene. Skriv {{"),
    "list": ("Kurs: {kurs:liste}", "{kurs:liste} må stå alene på en linje"),
    "xss": ("<script>alert(1)</script>{<b>x</b>}", "er ikke en plassholder"),
    "sql": ("'; DROP TABLE kb_intent; -- {x' OR 1=1}", "er ikke en plassholder"),
    "huge": ("{fornavn}" + "x" * 20_000, "høyst 20 000 tegn"),
}


@pytest.mark.parametrize(
    ("template", "named"), BAD_TEMPLATES.values(), ids=BAD_TEMPLATES
)
def test_a_bad_template_is_a_norwegian_form_error_and_nothing_is_saved(
    admin_client, assistant, template, named
):
    before = stored_template(assistant)

    response = post_form(
        admin_client,
        "/admin/intents/kurs",
        intent_form(admin_client, personal_answer=template),
    )

    assert response.status_code == 422
    text = html.unescape(response.text)
    assert FORM_ERROR in text and named in text
    assert "<script>alert(1)" not in response.text  # shown as text, never run
    assert 'aria-invalid="true"' in response.text
    assert stored_template(assistant) == before
    # What the editor typed is kept in the form to be corrected.
    assert template[:200] in text


def test_a_new_intent_can_be_created_with_a_template(admin_client, assistant):
    form = {"intent_id": "mine_kurs", "title": "Mine kurs", "status": "draft",
            "answer": "Se kurskalenderen.", "phrases": "mine kurs\nkursene mine",
            "personal_field": "1", "personal_answer": "Hei {fornavn}!"}  # fmt: skip

    created = post_form(admin_client, "/admin/intents", form)
    refused = post_form(
        admin_client,
        "/admin/intents",
        {**form, "intent_id": "andre_kurs", "personal_answer": "{hvem}"},
    )

    assert created.status_code == 303, created.text
    assert stored_template(assistant, "mine_kurs") == "Hei {fornavn}!"
    assert refused.status_code == 422 and FORM_ERROR in html.unescape(refused.text)
    with pytest.raises(editing.NotFound):
        editing.load_intent(assistant.sessions, "andre_kurs")


def preview(client: TestClient, **changes) -> str:
    token = page_csrf(client, "/admin/intents/kurs")
    form = {**intent_form(client, **changes), "intent_id": "kurs", "csrf_token": token}
    response = client.post(
        "/admin/intents/preview", data=form, headers={"X-Admin-Fragment": "1"}
    )
    assert response.status_code == 200, response.text
    return html.unescape(response.text)


def test_live_preview_fills_the_template_for_the_chosen_demo_member(admin_client):
    template = "Hei {fornavn}! Nummer {medlemsnummer}.\n\n{tillitsvalgt:liste}"

    as_ola = preview(admin_client, personal_answer=template, preview_member="demo-ola")
    as_nobody = preview(admin_client, personal_answer=template, preview_member="x<y")

    assert "Innlogget som Ola Prøvesen" in as_ola
    assert "Hei Ola! Nummer DEMO-10002." in as_ola and "Randi Verneby" in as_ola
    assert "De fleste kursene er" in as_ola  # the general answer stays above
    assert "Innlogget som Kari Demodatter" in as_nobody  # unknown: the first


def test_live_preview_names_the_problems_and_keeps_the_general_answer(
    admin_client,
):
    shown = preview(admin_client, personal_answer="Hei {fornavn} {ukjent")

    assert "har feil og kan ikke vises" in shown
    assert "klammen { står alene" in shown
    assert "De fleste kursene er" in shown


def test_preview_uses_only_fictional_members_never_the_directory_in_use(
    admin_client, assistant, tmp_path: Path, caplog
):
    # The directory in use holds a "real" member under a demo member's id.
    folder = tmp_path / "real"
    shutil.copytree(DEMO_MEMBERS, folder)
    members = folder / "members.csv"
    members.write_text(
        members.read_text(encoding="utf-8").replace("Demodatter", "Ekteperson"),
        encoding="utf-8",
    )
    import_members(assistant.sessions, folder)
    caplog.set_level(logging.DEBUG)

    shown = preview(admin_client, personal_answer="{navn}", preview_member="demo-kari")

    assert "Kari Demodatter" in shown and "Ekteperson" not in shown
    assert "Demodatter" not in caplog.text and "Ekteperson" not in caplog.text


def test_a_trainer_cannot_change_the_template(assistant):
    trainer = logged_in_client(assistant, Role.TRAINER)
    before = stored_template(assistant)

    page = trainer.get("/admin/intents/kurs")
    changed = post_form(
        trainer,
        "/admin/intents/kurs",
        intent_form(trainer, personal_answer="Hei {fornavn}"),
    )

    assert page.status_code == 200 and 'name="personal_answer"' not in page.text
    assert changed.status_code == 403
    assert stored_template(assistant) == before


def test_placeholder_list_is_in_the_page_once_per_placeholder(admin_client):
    page = html.unescape(admin_client.get("/admin/intents/kurs").text)
    listed = re.findall(r"<dt><code>(\{[^}]+\})</code></dt>", page)
    assert sorted(listed) == sorted("{" + p + "}" for p in PLACEHOLDERS)
