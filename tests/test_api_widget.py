"""What the widget relies on: retries without duplicates, deletion, config."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from veiviser.service import Assistant
from veiviser.store.models import Conversation, Message
from veiviser.web import create_app

pytest_plugins = ["test_store_support"]

API = "/api/v1"


@pytest.fixture
def client(assistant: Assistant) -> Iterator[TestClient]:
    with TestClient(create_app(assistant.settings, assistant)) as test_client:
        yield test_client


@pytest.fixture
def conversation(client: TestClient) -> dict:
    data = client.post(f"{API}/conversations").json()
    data["headers"] = {"Authorization": f"Bearer {data['token']}"}
    data["url"] = f"{API}/conversations/{data['id']}"
    return data


def count_messages(assistant: Assistant, conversation_id: str) -> int:
    with assistant.sessions() as session:
        query = select(func.count()).where(Message.conversation_id == conversation_id)
        return session.scalar(query)


def test_retry_with_same_client_id_returns_the_stored_reply(
    client, conversation, assistant
):
    body = {"text": "hva koster medlemskap", "client_id": "a1b2c3d4e5f60718"}
    first = client.post(
        conversation["url"] + "/messages", json=body, headers=conversation["headers"]
    )
    again = client.post(
        conversation["url"] + "/messages", json=body, headers=conversation["headers"]
    )
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    # Greeting, one member message, one reply: the retry stored nothing.
    assert count_messages(assistant, conversation["id"]) == 3


def test_new_client_id_is_a_new_turn(client, conversation, assistant):
    for client_id in ("first-message-1", "second-message-2"):
        response = client.post(
            conversation["url"] + "/messages",
            json={"text": "hva koster medlemskap", "client_id": client_id},
            headers=conversation["headers"],
        )
        assert response.status_code == 200
    assert count_messages(assistant, conversation["id"]) == 5


@pytest.mark.parametrize(
    "client_id",
    [
        pytest.param("", id="empty"),
        pytest.param("short", id="too-short"),
        pytest.param("x" * 65, id="too-long"),
        pytest.param("<script>alert(1)</script>", id="markup"),
        pytest.param(12345678, id="number"),
    ],
)
def test_malformed_client_id_is_refused(client, conversation, client_id):
    response = client.post(
        conversation["url"] + "/messages",
        json={"text": "hei", "client_id": client_id},
        headers=conversation["headers"],
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"]


def test_member_deletes_own_conversation(client, conversation, assistant):
    client.post(
        conversation["url"] + "/messages",
        json={"text": "hva koster medlemskap"},
        headers=conversation["headers"],
    )
    response = client.delete(conversation["url"], headers=conversation["headers"])
    assert response.status_code == 204
    with assistant.sessions() as session:
        assert session.get(Conversation, conversation["id"]) is None
    assert count_messages(assistant, conversation["id"]) == 0
    history = client.get(
        conversation["url"] + "/messages", headers=conversation["headers"]
    )
    assert history.status_code == 404


def test_deleting_needs_the_token(client, conversation, assistant):
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.delete(conversation["url"], headers=wrong).status_code == 403
    assert client.delete(conversation["url"]).status_code == 401
    with assistant.sessions() as session:
        assert session.get(Conversation, conversation["id"]) is not None


def test_widget_script_and_config_are_public(client):
    script = client.get("/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "customElements.define" in script.text
    config = client.get("/widget/config.json")
    assert config.headers["access-control-allow-origin"] == "*"
    data = config.json()
    assert data["texts"]["send"] == "Send"
    assert data["max_chars"] == 2000
    assert data["retention_days"] == 90
