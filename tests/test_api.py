"""The HTTP API end to end through the ASGI client, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from veiviser.service import Assistant
from veiviser.store.models import Conversation, Feedback, Message
from veiviser.web import create_app

# The fixtures database_url and assistant (SQLite and PostgreSQL) live there.
pytest_plugins = ["test_store_support"]

API = "/api/v1"


@pytest.fixture
def client(assistant: Assistant) -> Iterator[TestClient]:
    with TestClient(create_app(assistant.settings, assistant)) as test_client:
        yield test_client


@pytest.fixture
def conversation(client: TestClient) -> dict:
    response = client.post(f"{API}/conversations")
    assert response.status_code == 201
    data = response.json()
    data["headers"] = {"Authorization": f"Bearer {data['token']}"}
    data["url"] = f"{API}/conversations/{data['id']}/messages"
    return data


def send(client: TestClient, conversation: dict, text: object):
    return client.post(
        conversation["url"], json={"text": text}, headers=conversation["headers"]
    )


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]


# --- Conversations and replies ------------------------------------------------


def test_opening_a_conversation_gives_random_id_token_and_greeting(client):
    first = client.post(f"{API}/conversations")
    second = client.post(f"{API}/conversations")

    assert first.status_code == 201
    data = first.json()
    assert re.fullmatch(r"[0-9a-f]{32}", data["id"])
    assert len(data["token"]) >= 40
    assert data["id"] != second.json()["id"]
    assert data["token"] != second.json()["token"]
    assert first.headers["location"].endswith(data["id"])
    greeting = data["messages"][0]
    assert greeting["outcome"] == "greeting"
    assert "Testforbundet" in greeting["html"]


def test_confident_question_gets_answer_with_html_and_buttons(client, conversation):
    response = send(client, conversation, "hvor mange feriedager har jeg?")

    assert response.status_code == 200
    reply = response.json()
    assert reply["outcome"] == "answer"
    assert reply["intent"] == "ferie"
    assert 0 < reply["confidence"] <= 1
    assert "<strong>25 virkedager</strong>" in reply["html"]
    assert reply["buttons"] == [{"label": "Kontingent", "payload": "Kontingent"}]
    assert reply["member"]["text"] == "hvor mange feriedager har jeg?"


def test_pressing_a_button_gives_the_same_answer_as_typing_its_text(
    client, conversation
):
    button = send(client, conversation, "ferie").json()["buttons"][0]
    pressed = send(client, conversation, button["payload"]).json()
    send(client, conversation, "ferie")
    typed = send(client, conversation, button["label"]).json()

    assert pressed["intent"] == typed["intent"] == "kontingent"
    assert pressed["html"] == typed["html"]
    assert pressed["buttons"] == typed["buttons"]


def test_handover_intent_offers_a_person_who_gives_contact_details(
    client, conversation
):
    reply = send(client, conversation, "jeg vil bli medlem").json()
    assert reply["outcome"] == "answer"
    person = reply["buttons"][0]

    handover = send(client, conversation, person["payload"]).json()

    assert handover["outcome"] == "handover"
    assert "tel:22334455" in handover["html"]
    assert "Hverdager 09–15" in handover["html"]


def test_history_returns_masked_messages_in_order(client, conversation):
    send(client, conversation, "ring meg på 98765432 om ferie")

    history = client.get(conversation["url"], headers=conversation["headers"])

    assert history.status_code == 200
    messages = history.json()["messages"]
    assert [m["seq"] for m in messages] == [1, 2, 3]
    assert [m["role"] for m in messages] == ["assistant", "member", "assistant"]
    assert messages[1]["text"] == "ring meg på [telefonnummer] om ferie"
    later = client.get(
        conversation["url"], params={"after": 2}, headers=conversation["headers"]
    )
    assert [m["seq"] for m in later.json()["messages"]] == [3]


def test_feedback_is_recorded_once_per_reply(client, conversation):
    seq = send(client, conversation, "ferie").json()["seq"]
    url = f"{conversation['url']}/{seq}/feedback"

    up = client.post(url, json={"rating": "up"}, headers=conversation["headers"])
    down = client.post(
        url,
        json={"rating": "down", "comment": "Feil svar"},
        headers=conversation["headers"],
    )

    assert up.status_code == down.status_code == 201
    assert down.json() == {"seq": seq, "rating": "down"}
    with client.app.state.assistant.sessions() as session:
        rows = session.scalars(select(Feedback)).all()
    assert [(f.rating, f.comment) for f in rows] == [("down", "Feil svar")]


def test_feedback_on_own_message_or_unknown_seq_is_refused(client, conversation):
    send(client, conversation, "ferie")
    own = client.post(
        f"{conversation['url']}/2/feedback",
        json={"rating": "up"},
        headers=conversation["headers"],
    )
    unknown = client.post(
        f"{conversation['url']}/99/feedback",
        json={"rating": "up"},
        headers=conversation["headers"],
    )
    bad_rating = client.post(
        f"{conversation['url']}/3/feedback",
        json={"rating": "great"},
        headers=conversation["headers"],
    )

    assert_error_shape(own, 422, "not_a_reply")
    assert_error_shape(unknown, 404, "message_not_found")
    assert_error_shape(bad_rating, 422, "invalid_request")


# --- Personal data ------------------------------------------------------------


def test_database_holds_only_masked_personal_data(client, conversation):
    secrets_typed = {
        "fødselsnummer": "01010012356",
        "konto": "1234.56.78903",
        "telefon": "+47 987 65 432",
        "e-post": "kari.nordmann@eksempel.no",
    }
    text = "Hei, {fødselsnummer}, konto {konto}, tlf {telefon}, {e-post}".format(
        **secrets_typed
    )
    seq = send(client, conversation, text).json()["seq"]
    client.post(
        f"{conversation['url']}/{seq}/feedback",
        json={"rating": "down", "comment": f"ring {secrets_typed['telefon']}"},
        headers=conversation["headers"],
    )

    with client.app.state.assistant.sessions() as session:
        messages = session.scalars(select(Message)).all()
        stored = [m.text or "" for m in messages] + [m.html or "" for m in messages]
        stored += [f.comment or "" for f in session.scalars(select(Feedback))]
        member = next(m for m in messages if m.role == "member")
    everything = "\n".join(stored)
    for value in secrets_typed.values():
        assert value not in everything
    assert "98765432" not in everything.replace(" ", "")
    assert member.text == (
        "Hei, [fødselsnummer], konto [kontonummer], tlf [telefonnummer], [e-post]"
    )
    assert set(member.masked) == {
        "fodselsnummer",
        "kontonummer",
        "telefonnummer",
        "email",
    }


def test_conversation_token_is_stored_only_as_a_hash(client, conversation):
    with client.app.state.assistant.sessions() as session:
        row = session.get(Conversation, conversation["id"])
    assert conversation["token"] not in row.token_hash
    assert len(row.token_hash) == 64


def test_personal_data_never_reaches_the_log(client, conversation, caplog):
    caplog.set_level("DEBUG", logger="veiviser")
    send(client, conversation, "e-posten min er ola@nordmann.example, tlf 98765432")
    assert caplog.records
    assert "ola@nordmann.example" not in caplog.text
    assert "98765432" not in caplog.text


# --- Errors -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "\u200b\u200b", "\x00\x01"])
def test_empty_or_whitespace_message_is_422(client, conversation, text):
    error = assert_error_shape(send(client, conversation, text), 422, "empty_message")
    assert "tom" in error["message"]


def test_message_over_the_limit_is_422_naming_the_limit(client, conversation):
    error = assert_error_shape(
        send(client, conversation, "ø" * 2001), 422, "message_too_long"
    )
    assert "2000" in error["message"]
    assert error["details"]["limit"] == 2000


def test_message_at_the_limit_is_answered(client, conversation):
    assert send(client, conversation, "ferie " * 333 + "x").status_code == 200


def test_control_characters_are_stripped_before_storage(client, conversation):
    reply = send(client, conversation, "fe\x00rie\x1b[31m\u202e?").json()
    assert reply["member"]["text"] == "ferie[31m?"


def test_unknown_or_malformed_conversation_is_404(client):
    for conversation_id in ["0" * 32, "not-an-id", "A" * 32, "x" * 500]:
        response = client.post(
            f"{API}/conversations/{conversation_id}/messages",
            json={"text": "hei"},
            headers={"Authorization": "Bearer whatever"},
        )
        assert_error_shape(response, 404, "conversation_not_found")


def test_wrong_token_is_403_and_missing_token_401(client, conversation):
    wrong = client.post(
        conversation["url"],
        json={"text": "ferie"},
        headers={"Authorization": "Bearer " + conversation["token"][:-1] + "x"},
    )
    other_scheme = client.post(
        conversation["url"],
        json={"text": "ferie"},
        headers={"Authorization": "Basic " + conversation["token"]},
    )
    missing = client.post(conversation["url"], json={"text": "ferie"})
    history = client.get(conversation["url"], headers={"Authorization": "Bearer x"})

    assert_error_shape(wrong, 403, "forbidden")
    assert_error_shape(other_scheme, 401, "unauthorized")
    assert_error_shape(missing, 401, "unauthorized")
    assert_error_shape(history, 403, "forbidden")


def test_another_conversations_token_is_refused(client, conversation):
    other = client.post(f"{API}/conversations").json()
    response = client.post(
        conversation["url"],
        json={"text": "ferie"},
        headers={"Authorization": f"Bearer {other['token']}"},
    )
    assert_error_shape(response, 403, "forbidden")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b'{"text": "hei"', 400, "invalid_json"),
        (b"\xff\xfe\x00", 400, "invalid_json"),
        (b'"just a string"', 422, "invalid_request"),
        (b"[]", 422, "invalid_request"),
        (b"null", 422, "invalid_request"),
        (b"{}", 422, "invalid_request"),
        (b'{"text": 42}', 422, "invalid_request"),
        (b'{"text": null}', 422, "invalid_request"),
        (b'{"text": ["a"]}', 422, "invalid_request"),
        (b'{"text": {"$gt": ""}}', 422, "invalid_request"),
        (b'{"text": "hei", "admin": true}', 422, "invalid_request"),
    ],
    ids=[
        "broken",
        "unterminated",
        "binary",
        "string",
        "array",
        "null",
        "empty-object",
        "number",
        "null-text",
        "list-text",
        "object-text",
        "extra-field",
    ],
)
def test_malformed_bodies_get_the_error_shape(client, conversation, body, status, code):
    response = client.post(
        conversation["url"],
        content=body,
        headers={**conversation["headers"], "Content-Type": "application/json"},
    )
    error = assert_error_shape(response, status, code)
    assert "not json" not in str(error)


def test_validation_errors_do_not_echo_the_input(client, conversation):
    response = client.post(
        conversation["url"],
        json={"text": {"<script>": "alert(1)"}},
        headers=conversation["headers"],
    )
    assert "<script>" not in response.text


def test_body_over_64_kb_is_413_in_the_error_shape(client, conversation):
    huge = {"text": "a" * 100_000}
    response = client.post(
        conversation["url"], json=huge, headers=conversation["headers"]
    )
    error = assert_error_shape(response, 413, "request_too_large")
    assert error["details"]["limit_bytes"] == 65536


def test_streamed_body_without_length_is_held_to_the_limit(client, conversation):
    def chunks():
        yield b'{"text": "'
        for _ in range(100):
            yield b"a" * 1024
        yield b'"}'

    response = client.post(
        conversation["url"],
        content=chunks(),
        headers={**conversation["headers"], "Content-Type": "application/json"},
    )
    assert_error_shape(response, 413, "request_too_large")


def test_unknown_path_and_method_use_the_error_shape(client):
    assert_error_shape(client.get(f"{API}/nothing"), 404, "not_found")
    assert_error_shape(client.delete(f"{API}/conversations"), 405, "method_not_allowed")


def test_oversized_sequence_number_is_422_not_500(client, conversation):
    response = client.post(
        f"{conversation['url']}/99999999999999999999/feedback",
        json={"rating": "up"},
        headers=conversation["headers"],
    )
    assert_error_shape(response, 422, "invalid_request")


HOSTILE_TEXTS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[klikk](javascript:alert(1))",
    "<iframe src='https://evil.example'></iframe>",
    "'; DROP TABLE message; --",
    "Robert'); DELETE FROM conversation;--",
    "{{7*7}} ${7*7} {organisation} %s %(x)s",
    "\u202eevil\u202c",
    "🙂" * 500,
    "𝕳𝖊𝖎 𝖉𝖊𝖗",
    "Как дела? 你好 مرحبا",
    "What is the membership fee and how do I join?",
    "a" * 2000,
    "\ud83d",
    "null",
    "0",
    "ferie\x00\x00",
    "../../etc/passwd",
    "%00%0d%0aSet-Cookie: x=y",
]


def test_hostile_and_foreign_input_never_gives_500(client, conversation):
    for text in HOSTILE_TEXTS:
        response = client.post(
            conversation["url"],
            content=('{"text": ' + _json_string(text) + "}").encode(
                "utf-8", "surrogatepass"
            ),
            headers={**conversation["headers"], "Content-Type": "application/json"},
        )
        assert response.status_code in (200, 400, 422), (text, response.text)
        if response.status_code == 200:
            reply = response.json()
            assert "<script" not in reply["html"]
            assert "javascript:" not in reply["html"]
            assert "<iframe" not in reply["html"]


def _json_string(text: str) -> str:
    import json

    return json.dumps(text)


def test_member_text_comes_back_as_text_never_as_html(client, conversation):
    reply = send(client, conversation, "<b>fet</b> <script>x()</script>").json()
    assert reply["member"]["html"] is None
    assert reply["member"]["text"] == "<b>fet</b> <script>x()</script>"
    assert "<script" not in reply["html"]


# --- Page, docs, headers ------------------------------------------------------


def test_head_requests_on_the_public_pages_answer_without_a_body(client):
    for path in ("/", "/widget.js", "/favicon.ico"):
        head = client.head(path)
        assert head.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-type"] == client.get(path).headers["content-type"]


def test_pages_have_an_icon(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/").text


def test_chat_page_is_norwegian_and_loads_its_own_script(client):
    page = client.get("/")

    assert page.status_code == 200
    assert '<html lang="nb">' in page.text
    assert "Skriv spørsmålet ditt" in page.text
    assert '<script src="/static/chat.js"' in page.text
    assert "<script>" not in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    script = client.get("/static/chat.js")
    assert script.status_code == 200
    assert "textContent = text" in script.text


def test_api_docs_and_openapi_are_served_without_a_cdn(client):
    docs = client.get("/docs")
    schema = client.get("/openapi.json").json()

    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert f"{API}/conversations/{{conversation_id}}/messages" in schema["paths"]


def test_cors_allows_only_the_configured_origins(assistant):
    from dataclasses import replace

    settings = replace(assistant.settings, allowed_origins=("https://forbund.example",))
    with TestClient(create_app(settings, assistant)) as client:
        allowed = client.options(
            f"{API}/conversations",
            headers={
                "Origin": "https://forbund.example",
                "Access-Control-Request-Method": "POST",
            },
        )
        other = client.post(
            f"{API}/conversations", headers={"Origin": "https://evil.example"}
        )

    assert allowed.headers["access-control-allow-origin"] == "https://forbund.example"
    assert "access-control-allow-origin" not in other.headers


def test_kb_texts_override_the_built_in_ones(database_url, tmp_path):
    from test_store_support import open_assistant, settings_for, small_kb, write_kb

    kb = small_kb(texts={"greeting": "Velkommen til {organisation}!"})
    ready = open_assistant(settings_for(database_url, write_kb(tmp_path, kb)))
    try:
        with TestClient(create_app(ready.settings, ready)) as client:
            greeting = client.post(f"{API}/conversations").json()["messages"][0]
    finally:
        ready.close()
    assert greeting["html"] == "<p>Velkommen til Testforbundet!</p>"


def test_a_database_that_vanished_gives_503_in_the_error_shape(sqlite_url, tmp_path):
    from test_store_support import open_assistant, settings_for, write_kb

    ready = open_assistant(settings_for(sqlite_url, write_kb(tmp_path)))
    try:
        with TestClient(create_app(ready.settings, ready)) as client:
            opened = client.post(f"{API}/conversations").json()
            ready.engine.dispose()
            for file in (tmp_path / "var").iterdir():
                file.unlink()
            response = client.post(
                f"{API}/conversations/{opened['id']}/messages",
                json={"text": "ferie"},
                headers={"Authorization": f"Bearer {opened['token']}"},
            )
    finally:
        ready.close()
    error = assert_error_shape(response, 503, "storage_unavailable")
    assert "tekniske problemer" in error["message"]
