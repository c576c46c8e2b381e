"""The trainer loop end to end: public API → review queue → fix → answered.

Runs on SQLite and PostgreSQL, through the ASGI client, with the admin
routes called as a browser calls them (logged in, CSRF token in the form).
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from test_admin_support import add_staff, logged_in_client, login, post_form
from veiviser.service import Assistant
from veiviser.service.retention import purge
from veiviser.service.review import ReviewService
from veiviser.service.staff import Role, StaffUser
from veiviser.store.models import (
    Conversation,
    KbDeclineExample,
    KbPhrase,
    Message,
    ModelVersion,
)
from veiviser.store.models_admin import StaffAccount
from veiviser.store.models_trainer import (
    ErasureLog,
    ReviewClusters,
    ReviewDecision,
    ReviewVisit,
)
from veiviser.web import create_app

pytest_plugins = ["test_store_support", "test_admin_support"]

API = "/api/v1"
UNKNOWN = "hvordan endrer jeg kontonummeret mitt"
PARAPHRASE = "jeg vil endre kontonummeret mitt"
OTHER_UNKNOWN = "hvor kan jeg kjøpe billig kaffe"


@pytest.fixture
def api(assistant: Assistant) -> Iterator[TestClient]:
    with TestClient(create_app(assistant.settings, assistant)) as client:
        yield client


@pytest.fixture
def trainer(assistant: Assistant) -> TestClient:
    return logged_in_client(assistant, Role.TRAINER)


def open_conversation(api: TestClient) -> dict:
    response = api.post(f"{API}/conversations")
    assert response.status_code == 201
    data = response.json()
    data["headers"] = {"Authorization": f"Bearer {data['token']}"}
    return data


def ask(api: TestClient, conversation: dict, text: str) -> dict:
    response = api.post(
        f"{API}/conversations/{conversation['id']}/messages",
        json={"text": text},
        headers=conversation["headers"],
    )
    assert response.status_code == 200, response.text
    return response.json()


def queue_ids(page: str, text: str) -> list[str]:
    """The message ids of the cluster whose messages include ``text``."""
    for article in page.split("<article")[1:]:
        if f"«{text}»" in article:
            return re.findall(r'name="message_id" value="(\d+)"', article)
    return []


def wait_for_model_fully(client: TestClient) -> None:
    """Wait for the full training too, not only the provisional model."""
    trainer = getattr(client.app.state, "live_trainer", None)
    assert trainer is not None, "no training was started"
    assert trainer.wait_idle(timeout=300, full=True), "training did not finish"


def wait_for_model(client: TestClient) -> None:
    """Wait for the training a fix (or an erasure) through ``client`` started."""
    trainer = getattr(client.app.state, "live_trainer", None)
    assert trainer is not None, "no training was started"
    assert trainer.wait_idle(timeout=300), "training did not finish"


def test_declined_message_is_fixed_in_one_click_and_then_answered(
    assistant, api, trainer
):
    conversation = open_conversation(api)
    before = ask(api, conversation, UNKNOWN)
    assert before["outcome"] == "fallback"

    page = trainer.get("/admin/review")
    assert page.status_code == 200
    ids = queue_ids(page.text, UNKNOWN)
    assert len(ids) == 1
    assert "avvist" in page.text

    response = post_form(
        trainer,
        "/admin/review/add",
        {"message_id": ids, "intent_id": "kontingent"},
    )
    assert response.status_code == 303
    assert "ok=added" in response.headers["location"]
    wait_for_model(trainer)

    after = ask(api, open_conversation(api), UNKNOWN)
    assert after["outcome"] == "answer"
    assert after["intent"] == "kontingent"
    page = trainer.get("/admin/review")
    assert queue_ids(page.text, UNKNOWN) == []
    assert 'data-state="fixed"' in page.text
    with assistant.sessions() as session:
        source = session.scalar(
            select(KbPhrase.source_message_id).where(KbPhrase.text == UNKNOWN)
        )
    assert source == int(ids[0])


def test_fix_without_csrf_token_is_refused_and_changes_nothing(assistant, api, trainer):
    ask(api, open_conversation(api), UNKNOWN)
    ids = queue_ids(trainer.get("/admin/review").text, UNKNOWN)

    response = trainer.post(
        "/admin/review/add", data={"message_id": ids, "intent_id": "kontingent"}
    )

    assert response.status_code == 403
    with assistant.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReviewDecision)) == 0


def test_out_of_scope_keeps_a_decline_example_and_leaves_the_queue(
    assistant, api, trainer
):
    ask(api, open_conversation(api), "hvor kan jeg kjøpe billig kaffe")
    ids = queue_ids(
        trainer.get("/admin/review").text, "hvor kan jeg kjøpe billig kaffe"
    )

    response = post_form(trainer, "/admin/review/out-of-scope", {"message_id": ids})

    assert "ok=out_of_scope" in response.headers["location"]
    with assistant.sessions() as session:
        texts = set(session.scalars(select(KbDeclineExample.text)))
    assert "hvor kan jeg kjøpe billig kaffe" in texts
    assert queue_ids(trainer.get("/admin/review").text, "billig kaffe") == []
    wait_for_model(trainer)


def test_new_intent_from_a_cluster_is_a_draft_with_its_phrases(assistant, api, trainer):
    ask(api, open_conversation(api), UNKNOWN)
    ids = queue_ids(trainer.get("/admin/review").text, UNKNOWN)

    response = post_form(
        trainer,
        "/admin/review/new-intent",
        {"message_id": ids, "new_id": "kontonummer", "new_title": "Endre konto"},
    )

    assert "ok=new_intent" in response.headers["location"]
    with assistant.sessions() as session:
        phrases = list(
            session.execute(
                select(KbPhrase.text, KbPhrase.source_message_id).where(
                    KbPhrase.intent_id == "kontonummer"
                )
            )
        )
    assert phrases == [(UNKNOWN, int(ids[0]))]
    page = trainer.get("/admin/review")
    assert 'data-state="draft"' in page.text


@pytest.mark.parametrize(
    "data, error",
    [
        ({"intent_id": "kontingent"}, "no_messages"),
        ({"message_id": ["999999"], "intent_id": "kontingent"}, "gone"),
        ({"message_id": ["abc", "<script>"], "intent_id": "x"}, "no_messages"),
        ({"message_id": ["1"]}, "intent_missing"),
    ],
    ids=["no-message", "unknown-message", "malformed-ids", "no-intent"],
)
def test_malformed_fix_gives_a_norwegian_error_not_a_crash(trainer, data, error):
    response = post_form(trainer, "/admin/review/add", data)

    assert response.status_code == 303
    assert f"error={error}" in response.headers["location"]
    page = trainer.get(response.headers["location"])
    assert page.status_code == 200
    assert 'role="alert"' in page.text


def test_unknown_intent_and_hostile_new_intent_are_refused(api, trainer):
    ask(api, open_conversation(api), UNKNOWN)
    ids = queue_ids(trainer.get("/admin/review").text, UNKNOWN)

    unknown = post_form(
        trainer, "/admin/review/add", {"message_id": ids, "intent_id": "finnes_ikke"}
    )
    hostile = post_form(
        trainer,
        "/admin/review/new-intent",
        {"message_id": ids, "new_id": "'; DROP TABLE x;--", "new_title": "<b>x</b>"},
    )

    assert "error=intent_unknown" in unknown.headers["location"]
    assert "error=intent_invalid" in hostile.headers["location"]
    assert queue_ids(trainer.get("/admin/review").text, UNKNOWN) == ids


def test_queue_shows_feedback_comment_and_the_option_chosen(assistant, api, trainer):
    conversation = open_conversation(api)
    reply = ask(api, conversation, "ferie")
    feedback = api.post(
        f"{API}/conversations/{conversation['id']}/messages/{reply['seq']}/feedback",
        json={"rating": "down", "comment": "Hva med <b>feriepenger</b>?"},
        headers=conversation["headers"],
    )
    assert feedback.status_code in (200, 201, 204)

    page = trainer.get("/admin/review").text

    assert queue_ids(page, "ferie")
    assert "tommel ned" in page
    assert "Hva med &lt;b&gt;feriepenger&lt;/b&gt;?" in page
    assert "<b>feriepenger</b>" not in page


def test_clarification_shows_which_option_the_member_chose(assistant, trainer):
    # Stored as a clarifying turn looks, so the test does not hang on whether
    # the small model happens to find a message ambiguous.
    rows = [
        Message(role="member", seq=2, text="betale ferie", language="nb"),
        Message(
            role="assistant",
            seq=3,
            outcome="clarify",
            intents=["ferie", "kontingent"],
            confidence=0.4,
            alternatives=[
                {"intent": "ferie", "confidence": 0.4},
                {"intent": "kontingent", "confidence": 0.38},
            ],
        ),
        Message(role="member", seq=4, text="Kontingent", language="nb"),
        Message(role="assistant", seq=5, outcome="answer", intent="kontingent"),
    ]
    with assistant.sessions.begin() as session:
        session.add(Conversation(id="c" * 32, token_hash="0" * 64, state={}))
        for row in rows:
            row.conversation_id = "c" * 32
            session.add(row)

    page = trainer.get("/admin/review").text

    assert queue_ids(page, "betale ferie")
    assert "Medlemmet valgte: «Kontingent» → kontingent" in page
    assert "oppklaring" in page
    assert "Ferie og feriepenger (40 %)" in page


def test_new_items_are_marked_since_the_last_visit(assistant, api):
    name = add_staff(assistant, Role.TRAINER, "kari")
    client = TestClient(create_app(assistant.settings, assistant))
    assert login(client, name).status_code == 303
    ask(api, open_conversation(api), UNKNOWN)
    first = client.get("/admin/review").text
    assert 'class="badge new"' not in first

    # A later visit: the previous one is moved an hour back in the database.
    with assistant.sessions.begin() as session:
        visit = session.scalar(select(ReviewVisit))
        visit.last_seen_at -= timedelta(hours=1)
        visit.new_after -= timedelta(hours=1)
    ask(api, open_conversation(api), "hvor kan jeg kjøpe billig kaffe")
    second = client.get("/admin/review").text

    assert 'class="badge new"' in second
    assert second.count('class="badge new"') >= 1


def test_tasks_are_assigned_listed_for_the_assignee_and_closed(assistant, api):
    kari = logged_in_client(assistant, Role.TRAINER)
    ola_name = add_staff(assistant, Role.EDITOR, "ola")
    ola = TestClient(create_app(assistant.settings, assistant))
    assert login(ola, ola_name).status_code == 303
    ask(api, open_conversation(api), UNKNOWN)
    ids = queue_ids(kari.get("/admin/review").text, UNKNOWN)
    with assistant.sessions() as session:
        ola_id = session.scalar(
            select(StaffAccount.id).where(StaffAccount.username == "ola")
        )

    created = post_form(
        kari,
        "/admin/review/tasks",
        {"message_id": ids, "assignee": str(ola_id), "note": "Ta med på møtet <i>"},
    )
    assert "ok=task" in created.headers["location"]
    mine = ola.get("/admin/tasks").text
    assert UNKNOWN in mine and "Ta med på møtet &lt;i&gt;" in mine
    assert UNKNOWN not in kari.get("/admin/tasks").text
    task_id = re.search(r'id="task-(\d+)"', mine).group(1)

    done = post_form(ola, f"/admin/tasks/{task_id}/status", {"status": "done"})

    assert done.status_code == 303
    assert "ferdig" in ola.get("/admin/tasks?status=done").text
    assert UNKNOWN not in ola.get("/admin/tasks?status=open").text


def test_task_with_hostile_or_missing_fields_is_refused(assistant, api, trainer):
    ask(api, open_conversation(api), UNKNOWN)
    ids = queue_ids(trainer.get("/admin/review").text, UNKNOWN)

    no_assignee = post_form(trainer, "/admin/review/tasks", {"message_id": ids})
    unknown = post_form(
        trainer, "/admin/review/tasks", {"message_id": ids, "assignee": "99999"}
    )
    long_note = post_form(
        trainer,
        "/admin/review/tasks",
        {"message_id": ids, "assignee": "1", "note": "x" * 5000},
    )
    missing_task = post_form(trainer, "/admin/tasks/99999999999999999999/status")

    assert "error=assignee" in no_assignee.headers["location"]
    assert "error=assignee" in unknown.headers["location"]
    assert "error=note_long" in long_note.headers["location"]
    assert missing_task.status_code < 500


# --- Erasure ------------------------------------------------------------------


def adopted_conversation(assistant, api, trainer) -> tuple[dict, list[str]]:
    """A conversation one of whose messages became a training phrase."""
    conversation = open_conversation(api)
    ask(api, conversation, UNKNOWN)
    ids = queue_ids(trainer.get("/admin/review").text, UNKNOWN)
    post_form(trainer, "/admin/review/add", {"message_id": ids, "intent_id": "ferie"})
    wait_for_model(trainer)
    return conversation, ids


def phrase_count(assistant, text: str) -> int:
    with assistant.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(KbPhrase).where(KbPhrase.text == text)
        )


def test_member_deleting_their_conversation_removes_phrases_and_is_logged(
    assistant, api, trainer
):
    conversation, _ = adopted_conversation(assistant, api, trainer)
    assert phrase_count(assistant, UNKNOWN) == 1

    response = api.delete(
        f"{API}/conversations/{conversation['id']}", headers=conversation["headers"]
    )

    assert response.status_code == 204
    assert phrase_count(assistant, UNKNOWN) == 0
    with assistant.sessions() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.conversation_id == conversation["id"])
            )
            == 0
        )
        entry = session.scalar(select(ErasureLog))
    assert (entry.kind, entry.actor, entry.conversations) == ("member", None, 1)
    assert entry.phrases == 1
    wait_for_model(api)


def test_administrator_erases_a_conversation_with_its_phrases(
    assistant, api, trainer, admin_client
):
    conversation, _ = adopted_conversation(assistant, api, trainer)
    other = open_conversation(api)
    ask(api, other, "ferie")

    found = admin_client.get(f"/admin/erase?id={conversation['id']}")
    assert found.status_code == 200
    assert "1 treningsfrase og 0 avvisningseksempler" in found.text
    erased = post_form(
        admin_client, "/admin/erase", {"conversation_id": conversation["id"]}
    )

    assert erased.status_code == 303
    assert "erased=1" in erased.headers["location"]
    assert phrase_count(assistant, UNKNOWN) == 0
    history = api.get(
        f"{API}/conversations/{other['id']}/messages", headers=other["headers"]
    )
    assert history.status_code == 200
    gone = api.get(
        f"{API}/conversations/{conversation['id']}/messages",
        headers=conversation["headers"],
    )
    assert gone.status_code == 404
    log_page = admin_client.get("/admin/erase").text
    assert "administrator etter forespørsel" in log_page
    assert "sjefen" in log_page
    assert UNKNOWN not in log_page
    wait_for_model(admin_client)


def stored_vocabularies(assistant) -> list[str]:
    """The metadata (vocabulary included) of every stored model, as text."""
    with assistant.sessions() as session:
        blobs = session.scalars(select(ModelVersion.data)).all()
    return [
        np.load(io.BytesIO(blob))["meta"].tobytes().decode()
        for blob in blobs
        if blob is not None
    ]


def test_erasure_leaves_no_stored_model_with_the_erased_words(
    assistant, api, trainer, admin_client
):
    erased_word = "kontonummeret"
    assert not any(erased_word in meta for meta in stored_vocabularies(assistant))
    conversation, _ = adopted_conversation(assistant, api, trainer)
    wait_for_model_fully(trainer)
    assert any(erased_word in meta for meta in stored_vocabularies(assistant))

    post_form(admin_client, "/admin/erase", {"conversation_id": conversation["id"]})
    wait_for_model_fully(admin_client)

    vocabularies = stored_vocabularies(assistant)
    assert vocabularies, "no model is stored after the erasure"
    assert not any(erased_word in meta for meta in vocabularies)
    answered = ask(api, open_conversation(api), "ferie")
    assert answered["outcome"] == "answer"


def test_erasure_makes_another_process_train_afresh_on_its_next_edit(
    assistant, api, trainer, admin_client
):
    # The trainer's app stands for another process: its live trainer still
    # holds a model with the erased words when the erasure happens elsewhere.
    conversation, _ = adopted_conversation(assistant, api, trainer)
    wait_for_model_fully(trainer)
    ask(api, open_conversation(api), OTHER_UNKNOWN)
    post_form(admin_client, "/admin/erase", {"conversation_id": conversation["id"]})
    wait_for_model_fully(admin_client)

    ids = queue_ids(trainer.get("/admin/review").text, OTHER_UNKNOWN)
    post_form(trainer, "/admin/review/add", {"message_id": ids, "intent_id": "ferie"})
    wait_for_model_fully(trainer)

    vocabularies = stored_vocabularies(assistant)
    assert any("kaffe" in meta for meta in vocabularies)
    assert not any("kontonummeret" in meta for meta in vocabularies)


@pytest.mark.parametrize(
    "value",
    ["", "0" * 32, "x" * 5000, "'; DROP TABLE conversation;--", "<script>alert(1)"],
    ids=["empty", "unknown", "huge", "sql", "xss"],
)
def test_erasure_search_with_bad_ids_is_a_clear_not_found(admin_client, value):
    page = admin_client.get("/admin/erase", params={"id": value})
    erase = post_form(admin_client, "/admin/erase", {"conversation_id": value})

    assert page.status_code == (200 if value == "" else 404)
    assert "<script>alert(1)" not in page.text
    assert erase.status_code == 303


def test_only_administrators_may_erase(assistant, trainer):
    editor = logged_in_client(assistant, Role.EDITOR)

    assert trainer.get("/admin/erase").status_code == 403
    assert editor.get("/admin/erase", follow_redirects=False).status_code == 403
    assert (
        post_form(trainer, "/admin/erase", {"conversation_id": "a" * 32}).status_code
        == 403
    )


def test_large_queue_is_clustered_in_the_background_and_cached(assistant, api):
    for text in (UNKNOWN, PARAPHRASE, "hvor kan jeg kjøpe billig kaffe"):
        ask(api, open_conversation(api), text)
    service = ReviewService(assistant)
    add_staff(assistant, Role.TRAINER, "per")
    with assistant.sessions() as session:
        per = session.scalar(select(StaffAccount).where(StaffAccount.username == "per"))
    user = StaffUser(per.id, per.username, Role.TRAINER)

    first = service.queue(user, inline_items=0)
    assert first.pending
    assert first.total == 3
    # Until the clusters are ready each message stands alone: none is lost.
    assert sum(len(c.items) for c in first.clusters) == 3

    for _ in range(600):
        ready = service.queue(user, inline_items=0)
        if not ready.pending:
            break
        threading.Event().wait(0.1)
    assert not ready.pending
    sizes = sorted(len(c.items) for c in ready.clusters)
    assert sum(sizes) == 3
    with assistant.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReviewClusters)) == 1


def test_retention_purge_takes_review_rows_along_and_keeps_tasks(
    assistant, api, trainer
):
    ask(api, open_conversation(api), UNKNOWN)
    ask(api, open_conversation(api), "hvor kan jeg kjøpe billig kaffe")
    page = trainer.get("/admin/review").text
    post_form(
        trainer,
        "/admin/review/dismiss",
        {"message_id": queue_ids(page, "billig kaffe")},
    )
    with assistant.sessions() as session:
        me = session.scalar(
            select(StaffAccount.id).where(StaffAccount.role == "trainer")
        )
    post_form(
        trainer,
        "/admin/review/tasks",
        {"message_id": queue_ids(page, UNKNOWN), "assignee": str(me), "note": "sjekk"},
    )

    purge(assistant.sessions, 1, now=datetime.now(UTC) + timedelta(days=2))

    with assistant.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0
        assert session.scalar(select(func.count()).select_from(ReviewDecision)) == 0
    tasks = trainer.get("/admin/tasks").text
    assert "sjekk" in tasks
    assert "Meldingene er slettet." in tasks


def test_retention_purge_is_one_line_of_the_erasure_log_without_content(assistant, api):
    ask(api, open_conversation(api), UNKNOWN)
    ask(api, open_conversation(api), "hvor kan jeg kjøpe billig kaffe")
    with assistant.sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Message))

    purge(assistant.sessions, 1, now=datetime.now(UTC) + timedelta(days=2))
    purge(assistant.sessions, 1, now=datetime.now(UTC) + timedelta(days=3))

    with assistant.sessions() as session:
        lines = list(session.scalars(select(ErasureLog)))
    counts = [(e.kind, e.actor, e.conversations, e.messages) for e in lines]
    assert counts == [("purge", None, 2, stored)]
    administrator = logged_in_client(assistant, Role.ADMINISTRATOR)
    page = administrator.get("/admin/erase").text
    assert "automatisk sletting (lagringstid)" in page
    assert "kaffe" not in page


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script> hjelp meg",
        "'; DELETE FROM kb_phrase;-- hva nå",
        "¿Dónde está mi sindicato? 工会在哪里",
        "ø" * 1999,
    ],
    ids=["xss", "sql", "foreign", "huge"],
)
def test_hostile_member_text_is_shown_as_text_and_can_be_fixed(
    assistant, api, trainer, text
):
    ask(api, open_conversation(api), text)
    page = trainer.get("/admin/review")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    ids = re.findall(r'name="message_id" value="(\d+)"', page.text)

    response = post_form(trainer, "/admin/review/out-of-scope", {"message_id": ids})

    location = response.headers["location"]
    assert "ok=out_of_scope" in location or "error=unusable" in location
    assert trainer.get(location).status_code == 200
    with assistant.sessions() as session:
        assert session.scalar(select(func.count()).select_from(KbPhrase)) > 0
    if "ok=" in location:
        wait_for_model(trainer)
