"""The studio: editing intents goes live in the chat, safely, on both databases."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from test_admin_support import logged_in_client, page_csrf, post_form
from test_store_support import SMALL_KB
from veiviser.content.yaml_io import parse_knowledge_base
from veiviser.errors import KnowledgeBaseError, KnowledgeBaseProblem
from veiviser.service import editing
from veiviser.service.staff import Role
from veiviser.store.knowledge import kb_revision
from veiviser.store.models import utc_now
from veiviser.web import create_app
from veiviser.web.admin.kb_problems import describe
from veiviser.web.admin.studio import live_trainer
from veiviser.web.admin.texts import admin_texts

pytest_plugins = ["test_store_support", "test_admin_support"]

API = "/api/v1"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def wait_live(client: TestClient, location: str) -> str:
    """Follow the save's redirect and wait until the change is live."""
    revision = int(re.search(r"saved=(\d+)", location).group(1))
    assert live_trainer_of(client).wait_idle(120)
    status = client.get(f"/admin/training?revision={revision}")
    return status.text


def live_trainer_of(client: TestClient):
    class _Request:  # the trainer lives on the app's state
        app = client.app

    return live_trainer(_Request())  # type: ignore[arg-type]


def ask(client: TestClient, text: str) -> dict:
    opened = client.post(f"{API}/conversations").json()
    reply = client.post(
        f"{API}/conversations/{opened['id']}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {opened['token']}"},
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


# --- Live edits -------------------------------------------------------------------


def test_added_phrase_changes_the_next_chat_answer(admin_client, assistant):
    before = ask(admin_client, "pensjon fra arbeidsgiver")
    assert before["intent"] != "ferie"

    saved = post_form(
        admin_client,
        "/admin/intents/ferie/phrases",
        {"phrases": "pensjon fra arbeidsgiver\nfår jeg pensjon fra arbeidsgiver"},
    )

    assert saved.status_code == 303
    assert "added=2" in saved.headers["location"]
    assert "i bruk i chatten nå" in wait_live(admin_client, saved.headers["location"])
    after = ask(admin_client, "pensjon fra arbeidsgiver")
    assert after["intent"] == "ferie"


def test_edited_answer_is_what_the_chat_answers_next(admin_client):
    form = {
        "version": "1",
        "title": "Ferie og feriepenger",
        "group": "arbeid",
        "status": "active",
        "answer": "Nytt svar: **30 dager**.",
        "button_intent": ["kontingent"],
        "button_label": ["Hva koster det?"],
    }

    saved = post_form(admin_client, "/admin/intents/ferie", form)

    assert saved.status_code == 303
    wait_live(admin_client, saved.headers["location"])
    reply = ask(admin_client, "hvor mange feriedager har jeg")
    assert reply["intent"] == "ferie"
    assert "<strong>30 dager</strong>" in reply["html"]
    assert [b["label"] for b in reply["buttons"]] == ["Hva koster det?"]


@pytest.mark.parametrize("ahead", [1, 10_000, 10**30])
def test_status_of_a_revision_never_saved_says_it_is_unknown(
    admin_client, assistant, ahead
):
    with assistant.sessions() as session:
        stored = kb_revision(session)

    status = admin_client.get(f"/admin/training?revision={stored + ahead}")

    assert status.status_code == 200
    assert "finnes ikke" in status.text
    assert "Lagret" not in status.text and "data-poll" not in status.text


def test_broken_training_keeps_the_last_good_model_and_says_why(
    admin_client, assistant
):
    model_before = assistant.models.require().model_version_id
    # Every intent but one becomes a draft without training in between...
    for intent in SMALL_KB["intents"][1:]:
        found = editing.load_intent(assistant.sessions, intent["id"])
        draft = found.intent.model_copy(update={"status": "draft"})
        editing.save_intent(
            assistant.sessions, draft, expected_version=None, is_new=False, actor="t"
        )
    # ...and the last through the page: nothing is left to train on.
    form = {"title": "Ferie", "status": "draft", "answer": "Ferie.", "version": ""}

    saved = post_form(admin_client, "/admin/intents/ferie", form)

    status = wait_live(admin_client, saved.headers["location"])
    assert "treningen feilet" in status
    assert "at least two classes" in status
    assert assistant.models.require().model_version_id == model_before
    assert ask(admin_client, "hvor mange feriedager har jeg")["intent"] == "ferie"


def test_requests_while_working_are_coalesced(assistant):
    trained = []
    trainer = editing_trainer(assistant, trained)
    stored_before = _models_stored(assistant)
    for number in range(5):
        editing.add_phrases(assistant.sessions, "ferie", [f"ferie nr {number}"], "t")
    for _ in range(5):
        trainer.request()

    assert trainer.wait_idle(120, full=True)
    trainer.stop()
    # One quick model for all five edits, then one full training; never one
    # per edit or per request.
    assert _models_stored(assistant) - stored_before == 2
    assert assistant.models.require().kb_revision == _revision(assistant)
    assert "provisional" not in assistant.models.require().model.stats


def _models_stored(assistant) -> int:
    from sqlalchemy import func, select

    from veiviser.store.models import ModelVersion

    with assistant.sessions() as session:
        return session.scalar(select(func.count()).select_from(ModelVersion))


def editing_trainer(assistant, trained: list):
    from veiviser.service.training import LiveTrainer

    def on_trained() -> None:
        trained.append(assistant.watcher.check())

    return LiveTrainer(
        assistant.sessions,
        assistant.encoder,
        0,
        lambda: assistant.models.current,
        on_trained,
    )


def _revision(assistant) -> int:
    from veiviser.store.knowledge import kb_revision

    with assistant.sessions() as session:
        return kb_revision(session)


def test_chat_requests_during_the_swap_all_succeed(admin_client, assistant):
    opened = admin_client.post(f"{API}/conversations").json()
    headers = {"Authorization": f"Bearer {opened['token']}"}
    url = f"{API}/conversations/{opened['id']}/messages"
    saved = post_form(admin_client, "/admin/intents/ferie/phrases", {"phrases": "fri"})
    trainer = live_trainer_of(admin_client)

    statuses = []
    while not trainer.wait_idle(0.01):
        reply = admin_client.post(url, json={"text": "ferie"}, headers=headers)
        statuses.append(reply.status_code)
    statuses.append(
        admin_client.post(url, json={"text": "ferie"}, headers=headers).status_code
    )

    assert saved.status_code == 303
    assert set(statuses) == {200}


def test_saving_a_stale_version_is_a_conflict_not_an_overwrite(admin_client, assistant):
    editing.add_phrases(assistant.sessions, "ferie", ["ferieuke"], "kollega")
    found = editing.load_intent(assistant.sessions, "ferie")
    form = {"version": str(found.version - 1), "title": "Overskrevet",
            "status": "active", "answer": "Gammelt", "group": "arbeid"}  # fmt: skip

    response = post_form(admin_client, "/admin/intents/ferie", form)

    assert response.status_code == 409
    assert "Noen andre lagret denne intensjonen" in response.text
    assert (
        editing.load_intent(assistant.sessions, "ferie").intent.title != "Overskrevet"
    )


# --- Intent forms -------------------------------------------------------------------


def test_new_intent_with_phrases_is_created_as_a_draft(admin_client, assistant):
    form = {"intent_id": "streik", "title": "Streik", "status": "draft",
            "answer": "Under streik får du **streikebidrag**.",
            "phrases": "er det streik\n\nhva skjer ved streik\n"}  # fmt: skip

    response = post_form(admin_client, "/admin/intents", form)

    assert response.status_code == 303
    created = editing.load_intent(assistant.sessions, "streik").intent
    assert created.status == "draft"
    assert created.phrases == ["er det streik", "hva skjer ved streik"]
    listed = admin_client.get("/admin/intents", params={"status": "draft"})
    assert "Streik" in listed.text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"intent_id": "", "title": "X", "answer": "Y"}, "Id-en er ugyldig"),
        ({"intent_id": "Æ-id", "title": "X", "answer": "Y"}, "Id-en er ugyldig"),
        ({"intent_id": "ferie", "title": "X", "answer": "Y"}, "Id-en er ugyldig"),
        ({"intent_id": "oos", "title": "X", "answer": "Y"}, "Id-en er ugyldig"),
        ({"intent_id": "ny", "title": "", "answer": "Y"}, "Tittelen må ha"),
        ({"intent_id": "ny", "title": "X", "answer": ""}, "Svaret må ha"),
        ({"intent_id": "ny", "title": "X", "answer": "y" * 20_001}, "Svaret må ha"),
        ({"intent_id": "ny", "title": "X" * 201, "answer": "Y"}, "Tittelen må ha"),
        ({"intent_id": "ny", "title": "X", "answer": "Y", "group": "finnes_ikke"},
         "Temagruppen finnes ikke"),
        ({"intent_id": "ny", "title": "X", "answer": "Y", "button_intent": ["borte"],
          "button_label": [""]}, "En knapp peker til en intensjon som ikke finnes"),
        ({"intent_id": "ny", "title": "X", "answer": "Y", "phrases": "x" * 501},
         "Frasene kunne ikke lagres"),
        ({"intent_id": "ny", "title": "\u200b\u00ad \u2060", "answer": "Y"},
         "Tittelen må ha"),
        ({"intent_id": "ny", "title": "X", "answer": " \u200b\n\u2060\u00ad "},
         "Svaret må ha"),
    ],
)  # fmt: skip
def test_invalid_intent_gets_norwegian_field_errors_and_keeps_the_input(
    admin_client, assistant, form, message
):
    response = post_form(admin_client, "/admin/intents", form)

    assert response.status_code == 422
    assert message in response.text
    assert 'role="alert"' in response.text
    assert editing.list_intents(assistant.sessions, search="ny") == []


def test_answer_of_only_invisible_characters_is_not_saved(admin_client, assistant):
    form = {"title": "Ferie", "status": "active", "answer": "\u200b\u2060\u00ad",
            "group": "arbeid"}  # fmt: skip

    response = post_form(admin_client, "/admin/intents/ferie", form)

    assert response.status_code == 422
    assert "Svaret må ha" in response.text
    assert editing.load_intent(assistant.sessions, "ferie").intent.answer.strip()


def test_too_long_phrase_is_named_by_its_first_words_and_the_limit(
    admin_client, assistant
):
    long = "hvor mange feriedager har jeg igjen i år " + "x" * 500
    created = post_form(
        admin_client,
        "/admin/intents",
        {"intent_id": "ny", "title": "X", "answer": "Y", "phrases": f"kort\n{long}"},
    )
    added = post_form(admin_client, "/admin/intents/ferie/phrases", {"phrases": long})

    for response in (created, added):
        assert response.status_code == 422
        assert "«hvor mange feriedager har jeg igjen i år" in response.text
        assert f"har {len(long)} tegn" in response.text
        assert "høyst 500 tegn" in response.text
    assert long in added.text  # the typed phrases are kept to be shortened
    assert long not in editing.load_intent(assistant.sessions, "ferie").intent.phrases


def test_button_label_without_a_target_is_an_error_not_dropped(admin_client, assistant):
    form = {"title": "Ferie", "status": "active", "answer": "Svar", "group": "arbeid",
            "button_intent": ["kontingent", ""],
            "button_label": ["Om kontingent", "Les mer om lønn"]}  # fmt: skip
    before = editing.load_intent(assistant.sessions, "ferie")

    saved = post_form(admin_client, "/admin/intents/ferie", form)
    created = post_form(admin_client, "/admin/intents", {**form, "intent_id": "ny"})

    for response in (saved, created):
        assert response.status_code == 422
        assert "En knapp har tekst, men ingen intensjon" in response.text
        assert 'value="Les mer om lønn"' in response.text
        assert 'aria-invalid="true"' in response.text
    after = editing.load_intent(assistant.sessions, "ferie")
    assert after.version == before.version
    assert editing.list_intents(assistant.sessions, search="ny") == []


def test_list_filters_by_search_group_status_and_phrase_count(admin_client):
    def shown(**params) -> list[str]:
        page = admin_client.get("/admin/intents", params=params).text
        return re.findall(r'<th scope="row"><a href="/admin/intents/(\w+)"', page)

    assert shown(q="FERIEDAGER") == ["ferie"]
    assert shown(group="arbeid") == ["ferie"]
    assert "utkast" in shown(status="draft")
    assert "ferie" not in shown(status="draft")
    assert shown(max_phrases="1") == ["utkast"]
    assert shown(q="'; DROP TABLE kb_intent; --") == []
    assert shown(q="ferie", status="bogus", max_phrases="x")[0] == "ferie"


def test_list_answers_htmx_requests_with_only_the_rows(admin_client):
    response = admin_client.get(
        "/admin/intents", params={"q": "kontingent"}, headers={"X-Admin-Fragment": "1"}
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'href="/admin/intents/kontingent"' in response.text


def test_preview_shows_the_answer_exactly_as_the_member_gets_it(admin_client):
    token = page_csrf(admin_client, "/admin/intents/ferie")
    form = {"intent_id": "ferie", "title": "Ferie", "answer": "**Hei** [lenke](https://x.example)",
            "handover": "on", "button_intent": ["kontingent"], "button_label": [""],
            "csrf_token": token}  # fmt: skip

    response = admin_client.post(
        "/admin/intents/preview", data=form, headers={"X-Admin-Fragment": "1"}
    )

    assert response.status_code == 200
    assert "<strong>Hei</strong>" in response.text
    assert 'rel="noopener noreferrer"' in response.text
    assert "Snakk med en person" in response.text  # the handover mark
    assert "Kontingent" in response.text  # the button's intent title


def test_trainer_adds_phrases_but_cannot_change_the_answer(assistant):
    trainer = logged_in_client(assistant, Role.TRAINER)

    page = trainer.get("/admin/intents/ferie")
    added = post_form(trainer, "/admin/intents/ferie/phrases", {"phrases": "fridager"})
    answer = post_form(
        trainer, "/admin/intents/ferie", {"answer": "Endret", "title": "X"}
    )

    assert page.status_code == 200
    assert 'name="answer"' not in page.text
    assert added.status_code == 303
    assert answer.status_code == 403
    assert "fridager" in editing.load_intent(assistant.sessions, "ferie").intent.phrases


def test_removing_a_phrase(admin_client, assistant):
    response = post_form(
        admin_client, "/admin/intents/ferie/phrases/remove", {"phrase": "ferien min"}
    )
    missing = post_form(
        admin_client, "/admin/intents/ferie/phrases/remove", {"phrase": "finnes ikke"}
    )

    assert response.status_code == 303
    assert (
        "ferien min"
        not in editing.load_intent(assistant.sessions, "ferie").intent.phrases
    )
    assert missing.status_code == 404


def test_bulk_paste_skips_duplicates_and_blank_lines(admin_client, assistant):
    response = post_form(
        admin_client,
        "/admin/intents/ferie/phrases",
        {"phrases": "FERIE\n\n  ny ferie-frase  \nny ferie-frase\r\n"},
    )

    assert "added=1" in response.headers["location"]
    assert "dupes=2" in response.headers["location"]
    phrases = editing.load_intent(assistant.sessions, "ferie").intent.phrases
    assert phrases.count("ny ferie-frase") == 1


@pytest.mark.parametrize(
    ("text", "status"), [("", 422), ("x" * 501, 422), ("\n".join(["a"] * 501), 422)]
)
def test_bad_phrase_input_is_a_form_error(admin_client, text, status):
    response = post_form(
        admin_client, "/admin/intents/ferie/phrases", {"phrases": text}
    )

    assert response.status_code == status
    assert 'role="alert"' in response.text


def test_archive_refuses_while_buttons_point_there_then_restores_as_draft(
    admin_client, assistant
):
    refused = post_form(admin_client, "/admin/intents/kontingent/archive")
    assert refused.status_code == 409
    assert "ferie" in refused.text

    archived = post_form(admin_client, "/admin/intents/innmelding/archive")
    assert archived.status_code == 303
    assert editing.list_intents(assistant.sessions, search="innmelding") == []
    assert "Bli medlem" in admin_client.get("/admin/archive").text
    taken = post_form(
        admin_client,
        "/admin/intents",
        {"intent_id": "innmelding", "title": "X", "answer": "Y"},
    )
    assert taken.status_code == 422

    restored = post_form(admin_client, "/admin/archive/innmelding/restore")
    assert restored.status_code == 303
    back = editing.load_intent(assistant.sessions, "innmelding").intent
    assert back.status == "draft"
    assert len(back.phrases) == 6


# --- Try it -------------------------------------------------------------------------


def test_try_shows_intent_confidence_alternatives_and_the_exact_reply(admin_client):
    token = page_csrf(admin_client, "/admin/try")

    response = admin_client.post(
        "/admin/try",
        data={
            "text": "hvor mange feriedager har jeg? ring 41234567",
            "csrf_token": token,
        },
    )

    assert response.status_code == 200
    assert 'href="/admin/intents/ferie"' in response.text
    assert "<strong>25 virkedager</strong>" in response.text
    assert "%" in response.text
    result = response.text.split('id="try-result"')[1]
    assert "41234567" not in result  # masked like a member's message


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001])
def test_try_refuses_empty_or_huge_text_with_a_norwegian_message(admin_client, text):
    token = page_csrf(admin_client, "/admin/try")

    response = admin_client.post("/admin/try", data={"text": text, "csrf_token": token})

    assert response.status_code == 422
    assert 'role="alert"' in response.text


# --- Import and export -------------------------------------------------------------


def test_export_then_merge_import_round_trips(admin_client, assistant):
    exported = admin_client.get("/admin/kb/export")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    changed = exported.text.replace(
        "Kontingenten er 1 % av lønnen.", "Endret via import."
    )

    response = admin_client.post(
        "/admin/kb/import",
        data={"mode": "merge", "csrf_token": page_csrf(admin_client, "/admin/kb")},
        files={"file": ("kb.yaml", changed.encode(), "application/yaml")},
        follow_redirects=False,
    )

    assert response.status_code == 303
    answer = editing.load_intent(assistant.sessions, "kontingent").intent.answer
    assert answer.strip() == "Endret via import."


INTENT = "intents:\n  - id: x\n    title: X\n    answer: Svar.\n"


def upload(client: TestClient, content: bytes, mode: str = "replace"):
    """Upload ``content`` as opp.yaml, to replace or to merge."""
    return client.post(
        "/admin/kb/import",
        data={"mode": mode, "csrf_token": page_csrf(client, "/admin/kb")},
        files={"file": ("opp.yaml", content, "application/yaml")},
        follow_redirects=False,
    )


def import_problems(
    client: TestClient, content: bytes, mode: str = "replace"
) -> list[str]:
    """Upload ``content`` as opp.yaml and return the listed problems' text."""
    response = upload(client, content, mode)
    assert response.status_code == 422
    alert = response.text.split('role="alert"')[1].split("</ul>")[0]
    items = re.findall(r"<li>(.*?)</li>", alert, flags=re.S)
    return [re.sub(r"<[^>]+>", "", item) for item in items]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"", "opp.yaml: Filen er tom.", id="empty"),
        pytest.param(b"\xff\xfe\x00", "ikke lagret som UTF-8-tekst", id="not-utf8"),
        pytest.param(
            b"intents:\n  - id: x\n    title: X\n",
            "opp.yaml:2: Intensjon nr. 1 (id «x»), feltet «answer» mangler.",
            id="missing-field",
        ),
        pytest.param(
            (INTENT + "    handover: kanskje\n").encode(),
            "opp.yaml:5: Intensjon nr. 1 (id «x»), feltet «handover» må være true "
            "eller false.",
            id="wrong-type",
        ),
        pytest.param(
            (INTENT + "    phrases: hei\n").encode(),
            "opp.yaml:5: Intensjon nr. 1 (id «x»), feltet «phrases» må være en liste.",
            id="phrases-not-a-list",
        ),
        pytest.param(
            (INTENT + "    phrases: ['hei', '']\n").encode(),
            "opp.yaml:5: Intensjon nr. 1 (id «x»), frase nr. 2: teksten er tom.",
            id="empty-phrase",
        ),
        pytest.param(
            (INTENT + "  - id: x\n    title: Y\n    answer: Svar.\n").encode(),
            "opp.yaml:5: Intensjon nr. 2, feltet «id»: id-en «x» er allerede brukt",
            id="duplicate-id",
        ),
        pytest.param(
            (INTENT + "    buttons:\n      - intent: nope\n").encode(),
            "opp.yaml:6: Intensjon nr. 1 (id «x»), knapp nr. 1, feltet «intent»: "
            "knappen peker til «nope», men ingen intensjon har den id-en.",
            id="dangling-button",
        ),
        pytest.param(
            b"intents: [\n", "opp.yaml:2: Filen er ikke gyldig YAML her.", id="yaml"
        ),
        pytest.param(
            b"intents:\n  - id: x\n    title: &t [a, a, a, a, a, a, a, a, a, a]\n"
            + b"    answer: &u [*t, *t, *t, *t, *t, *t, *t, *t, *t, *t]\n"
            + b"    phrases: [*u, *u, *u, *u, *u, *u, *u, *u, *u, *u]\n",
            "opp.yaml:3: Filen blir til mer enn",
            id="alias-expansion",
        ),
        pytest.param(
            (INTENT + "intent: []\n").encode(),
            "opp.yaml:5: Seksjonen «intent» finnes ikke. Disse finnes: "
            "«groups», «intents»",
            id="unknown-section",
        ),
        pytest.param(
            b"organisation:\n  name: ''\n",
            "opp.yaml:2: Organisasjonen, feltet «name» må ha minst 1 tegn.",
            id="empty-name",
        ),
    ],
)
def test_import_problems_are_listed_in_norwegian_with_file_and_line(
    admin_client, assistant, content, expected
):
    before = editing.knowledge_base(assistant.sessions)

    problems = import_problems(admin_client, content)

    assert any(expected in problem for problem in problems), problems
    assert editing.knowledge_base(assistant.sessions) == before


# Replaces the stored intent of the same id; its buttons lead to an intent
# only stored and to one without phrases, given here.
MERGED = """\
intents:
  - id: innmelding
    title: Bli medlem
    phrases: [hvordan melder jeg meg inn, bli medlem, innmelding]
    answer: Meld deg inn på nettsiden.
    buttons:
      - intent: ferie
        label: Ferie som ny?
      - intent: innmelding_frist
  - id: innmelding_frist
    title: Når gjelder medlemskapet
    phrases: []
    answer: Fra den første i måneden etter innmeldingen.
"""


def test_merge_import_may_point_buttons_at_stored_intents(admin_client, assistant):
    response = upload(admin_client, MERGED.encode(), "merge")

    assert response.status_code == 303
    assert live_trainer_of(admin_client).wait_idle(120)
    opened = admin_client.post(f"{API}/conversations").json()
    headers = {"Authorization": f"Bearer {opened['token']}"}
    url = f"{API}/conversations/{opened['id']}/messages"

    def press(text: str) -> dict:
        return admin_client.post(url, json={"text": text}, headers=headers).json()

    reply = press("hvordan melder jeg meg inn")
    labels = [b["label"] for b in reply["buttons"]]
    assert reply["intent"] == "innmelding"
    assert "Ferie som ny?" in labels and "Når gjelder medlemskapet" in labels
    assert press("Ferie som ny?")["intent"] == "ferie"
    press("hvordan melder jeg meg inn")
    assert "første i måneden" in press("Når gjelder medlemskapet")["html"]


@pytest.mark.parametrize(
    ("content", "mode", "expected"),
    [
        pytest.param(
            MERGED.replace("intent: ferie", "intent: nope"),
            "merge",
            "opp.yaml:7: Intensjon nr. 1 (id «innmelding»), knapp nr. 1, feltet "
            "«intent»: knappen peker til «nope», men ingen intensjon har den id-en.",
            id="merge-nowhere",
        ),
        pytest.param(
            MERGED,
            "replace",
            "opp.yaml:7: Intensjon nr. 1 (id «innmelding»), knapp nr. 1, feltet "
            "«intent»: knappen peker til «ferie», men ingen intensjon har den id-en.",
            id="replace-stored-only",
        ),
    ],
)
def test_import_refuses_a_button_to_an_intent_it_would_not_have(
    admin_client, assistant, content, mode, expected
):
    before = editing.knowledge_base(assistant.sessions)

    problems = import_problems(admin_client, content.encode(), mode)

    assert problems == [expected]
    assert editing.knowledge_base(assistant.sessions) == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"intents: []\n", "uten aktive intensjoner", id="no-intents"),
        pytest.param(
            b"organisation:\n  name: Nytt\n", "uten aktive intensjoner", id="org-only"
        ),
        pytest.param(
            b"a: " + b"[" * 5000,
            "opp.yaml:1: Verdiene i filen ligger for mange",
            id="deep",
        ),
    ],
)
def test_replace_import_that_would_empty_the_knowledge_base_is_refused(
    admin_client, assistant, content, expected
):
    before = editing.knowledge_base(assistant.sessions)

    problems = import_problems(admin_client, content, "replace")

    assert len(problems) == 1 and expected in problems[0], problems
    assert editing.knowledge_base(assistant.sessions) == before


def test_merge_import_of_only_the_organisation_keeps_the_intents(
    admin_client, assistant
):
    before = editing.knowledge_base(assistant.sessions)

    response = upload(admin_client, b"organisation:\n  name: Nytt navn\n", "merge")

    after = editing.knowledge_base(assistant.sessions)
    assert response.status_code == 303
    assert after.organisation.name == "Nytt navn"
    assert after.intents == before.intents


def test_import_problems_show_no_english_developer_text(admin_client):
    broken = (
        INTENT
        + "    handover: kanskje\n    colour: red\n    phrases: ['', 5]\n"
        + "    buttons: [{intent: nope}]\n  - title: Uten id\n"
    )

    problems = import_problems(admin_client, broken.encode())

    assert len(problems) == 7
    english = ("Input should", "Field required", "Extra inputs", "the text is")
    assert not [p for p in problems if any(word in p for word in english)]


def test_import_problems_are_listed_top_to_bottom(admin_client):
    # A dangling button (line 6) between a missing title (2) and an empty
    # phrase (9): references are not listed before the others.
    broken = (
        "intents:\n  - id: x\n    answer: Svar.\n    buttons:\n"
        "      - intent: nope\n  - id: y\n    title: Y\n    answer: Svar.\n"
        "    phrases: ['']\n"
    )

    problems = import_problems(admin_client, broken.encode())

    lines = [int(re.match(r"opp\.yaml:(\d+)", p).group(1)) for p in problems]
    assert lines == [2, 5, 9]
    assert "mangler" in problems[0]
    assert "knappen peker til «nope»" in problems[1]


@pytest.mark.parametrize(
    "hostile",
    [
        pytest.param("'<script>alert(1)</script>'", id="script-id"),
        pytest.param("{'<b>': '<i>'}", id="mapping-id"),
        pytest.param("'" + "<x>" * 2000 + "'", id="huge-id"),
    ],
)
def test_import_problems_escape_a_hostile_id(admin_client, assistant, hostile):
    broken = INTENT.replace("id: x", f"id: {hostile}") + (
        f"    buttons:\n      - intent: {hostile}\n"
    )

    response = admin_client.post(
        "/admin/kb/import",
        data={"mode": "replace", "csrf_token": page_csrf(admin_client, "/admin/kb")},
        files={"file": ("<b>opp</b>.yaml", broken.encode(), "application/yaml")},
    )

    assert response.status_code == 422
    alert = response.text.split('role="alert"')[1].split("</div>")[0]
    assert "&lt;" in alert
    assert "<script>" not in alert and "<b>" not in alert and "<x>" not in alert
    assert len(alert) < 5_000


def test_a_problem_without_its_own_text_is_still_norwegian_and_names_the_field():
    problem = KnowledgeBaseProblem(
        "kb.yaml",
        3,
        "intents.0.title: something new",
        "some_future_pydantic_type",
        {"loc": ["intents", 0, "title"], "item_id": "ferie"},
    )

    text = describe(problem)

    assert text.startswith("Intensjon nr. 1 (id «ferie»), feltet «title» har en feil")


def test_every_problem_code_the_format_gives_has_its_own_text():
    broken = [
        INTENT + "    handover: kanskje\n    colour: red\n    status: live\n",
        INTENT + "    phrases: ['', 5, '" + "x" * 600 + "']\n    buttons: [3]\n",
        INTENT + "    group: g\n  - id: Oos\n    title: ''\n    answer: a\n",
        INTENT + "  - id: oos\n    title: t\n    answer: a\n",
        INTENT + "    personal_answer: '{ukjent}'\n",
        "intents: {}\n",
        "- a list\n",
        "texts:\n  5: x\n  a: [1]\ngroups:\n  - id: G\n    title: ''\n",
        "decline_examples: [[1]]\norganisation: {name: 5, x: 1}\n",
        "a: 1\na: 2\n",
    ]
    codes = set()
    for text in broken:
        with pytest.raises(KnowledgeBaseError) as caught:
            parse_knowledge_base(text, "kb.yaml")
        codes |= {problem.code for problem in caught.value.problems}

    texts = admin_texts()
    assert len(codes) >= 15
    assert sorted(c for c in codes if f"kb_problem.{c}" not in texts) == []


def test_import_over_the_general_body_limit_is_accepted_up_to_its_own(admin_client):
    exported = admin_client.get("/admin/kb/export").text
    padded = exported + "\n# " + "x" * 100_000 + "\n"

    response = admin_client.post(
        "/admin/kb/import",
        data={"mode": "merge", "csrf_token": page_csrf(admin_client, "/admin/kb")},
        files={"file": ("kb.yaml", padded.encode(), "application/yaml")},
        follow_redirects=False,
    )

    assert response.status_code == 303


def test_import_over_its_own_limit_gets_a_norwegian_page_and_saves_nothing(
    admin_client, assistant
):
    before = editing.knowledge_base(assistant.sessions)
    limit = assistant.settings.admin_upload_bytes
    huge = b"intents: []\n# " + b"x" * (limit + 1)

    response = admin_client.post(
        "/admin/kb/import",
        data={"mode": "replace", "csrf_token": page_csrf(admin_client, "/admin/kb")},
        files={"file": ("stor.yaml", huge, "application/yaml")},
    )

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert f"Grensen er {round(limit / 1024 / 1024)} MB" in response.text
    assert "Ingenting er lagret" in response.text
    assert "velg en mindre fil" in response.text
    assert editing.knowledge_base(assistant.sessions) == before


def test_a_form_over_the_limit_is_told_the_form_limit_and_to_send_less(
    admin_client, assistant
):
    response = post_form(admin_client, "/admin/notice", {"text": "x" * 70_000})

    limit = assistant.settings.max_body_bytes
    assert response.status_code == 413
    assert f"Grensen er {round(limit / 1024)} kB" in response.text
    assert "gjør teksten kortere" in response.text
    assert "fil" not in response.text.split('role="alert"')[-1].split("</p>")[0]
    assert editing.current_notice(assistant.sessions) is None


def test_an_oversized_login_post_gets_the_page_without_logging_in(assistant):
    client = TestClient(create_app(assistant.settings, assistant))
    with client:
        response = client.post(
            "/admin/login",
            content=b"username=" + b"x" * 70_000,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )

    assert response.status_code == 413
    assert "Ingenting er lagret" in response.text
    assert "Logg ut" not in response.text


def test_an_api_body_over_the_limit_still_gets_the_json_error(admin_client):
    response = admin_client.post(
        f"{API}/conversations",
        content=b"{" + b" " * 70_000 + b"}",
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


# --- Notice -------------------------------------------------------------------------


def test_notice_reaches_the_widget_api_within_its_period(admin_client, assistant):
    response = post_form(
        admin_client,
        "/admin/notice",
        {"text": "Streik fra mandag: svar tar lengre tid."},
    )
    assert response.status_code == 303

    opened = admin_client.post(f"{API}/conversations").json()
    history = admin_client.get(
        f"{API}/conversations/{opened['id']}/messages",
        headers={"Authorization": f"Bearer {opened['token']}"},
    ).json()
    assert opened["notice"] == "Streik fra mandag: svar tar lengre tid."
    assert history["notice"] == opened["notice"]

    post_form(admin_client, "/admin/notice", {"clear": "1"})
    assert admin_client.post(f"{API}/conversations").json()["notice"] is None


def test_notice_period_is_entered_in_oslo_time(admin_client, assistant):
    post_form(
        admin_client,
        "/admin/notice",
        {
            "text": "Julestengt",
            "starts_at": "2030-12-24T12:00",
            "ends_at": "2030-12-27T08:00",
        },
    )

    notice = editing.read_notice(assistant.sessions)
    assert notice.starts_at.isoformat() == "2030-12-24T11:00:00+00:00"
    assert editing.current_notice(assistant.sessions) is None
    inside = notice.starts_at + timedelta(hours=1)
    assert editing.current_notice(assistant.sessions, inside) == "Julestengt"
    assert editing.current_notice(assistant.sessions, notice.ends_at) is None
    assert editing.current_notice(assistant.sessions, utc_now()) is None


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"text": "x" * 301}, "høyst 300 tegn"),
        ({"text": "x", "starts_at": "2030-01-02T00:00", "ends_at": "2030-01-01T00:00"},
         "Sluttiden må være etter starttiden"),
        ({"text": "x", "starts_at": "i morgen"}, "kunne ikke leses"),
        ({"text": "x", "starts_at": "0001-01-01T00:00"}, "mellom år 1900 og 9998"),
        ({"text": "x", "ends_at": "0001-01-01T00:00"}, "mellom år 1900 og 9998"),
        ({"text": "x", "ends_at": "9999-12-31T23:59"}, "mellom år 1900 og 9998"),
    ],
)  # fmt: skip
def test_bad_notice_is_a_norwegian_form_error(admin_client, assistant, form, message):
    response = post_form(admin_client, "/admin/notice", form)

    assert response.status_code == 422
    assert message in response.text
    assert editing.current_notice(assistant.sessions) is None


# --- Hostile input is inert everywhere ----------------------------------------------


def test_hostile_text_in_every_field_is_inert_in_admin_and_chat(
    admin_client, assistant
):
    form = {"intent_id": "farlig", "title": HOSTILE, "status": "active",
            "answer": HOSTILE + "\n\n[klikk](javascript:alert(1))",
            "phrases": HOSTILE + "\nvis det farlige svaret\nfarlig svar",
            "button_intent": ["ferie"], "button_label": [HOSTILE[:120]]}  # fmt: skip
    created = post_form(admin_client, "/admin/intents", form)
    assert created.status_code == 303
    post_form(admin_client, "/admin/notice", {"text": HOSTILE})
    wait_live(admin_client, created.headers["location"])

    pages = [
        admin_client.get("/admin/intents").text,
        admin_client.get("/admin/intents/farlig").text,
        admin_client.get("/admin/notice").text,
    ]
    token = page_csrf(admin_client, "/admin/try")
    pages.append(
        admin_client.post(
            "/admin/try", data={"text": "farlig svar", "csrf_token": token}
        ).text
    )
    for page in pages:
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert 'href="javascript:' not in page

    reply = ask(admin_client, "vis det farlige svaret")
    assert reply["intent"] == "farlig"
    assert "<script" not in reply["html"] and "<img" not in reply["html"]
    assert 'href="javascript:' not in reply["html"]
    # Labels and the notice are plain text; the widget sets them as textContent.
    assert reply["buttons"][0]["label"] == HOSTILE[:120]
    assert admin_client.post(f"{API}/conversations").json()["notice"] == " ".join(
        HOSTILE.split()
    )


def test_admin_pages_forbid_inline_script_by_policy(admin_client):
    response = admin_client.get("/admin/intents")

    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
